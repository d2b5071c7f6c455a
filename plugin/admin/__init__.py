"""Configuration > Authentication > Clever: the admin page (blueprint ``bp``) and its JSON API.

Mounted by ``plugin.app.create_app`` (``page.register``) at ``/configuration/authentication/clever``.
Modules: ``auth`` (Keycloak sign-in, roles, CSRF), ``clever_login`` (Login with Clever, Badge),
``actions`` (what both the page and the API do), ``held`` (a held run's Approve, confirmed, and
Discard), ``schedule`` (the weekly window), ``console`` (links to and from Keycloak's admin
console), ``views`` (HTML), ``api`` (JSON), ``services``
(per-app Redis and Keycloak clients); the page's settings in Redis are ``plugin.config.store`` (the
jobs read them too). Nothing is imported here, so no module of the page imports it back.
See ``docs/admin.md``.

May import ``plugin.runs``, ``plugin.sync``, ``plugin.sso``, ``plugin.config``, ``mappers``,
``connectors`` and itself; only ``plugin.app`` imports it.
"""
