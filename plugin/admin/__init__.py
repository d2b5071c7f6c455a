"""Configuration > Authentication > Clever: the admin page (blueprint ``bp``) and its JSON API.

Mounted by ``plugin.app.create_app`` at ``/configuration/authentication/clever``. Modules: ``auth``
(Keycloak sign-in, roles, CSRF), ``clever_login`` (Login with Clever, Badge), ``actions`` (what both
the page and the API do), ``views`` (HTML), ``api`` (JSON), ``services`` (per-app Redis and
Keycloak clients); the page's settings in Redis are ``plugin.config.store`` (the jobs read them
too). See ``docs/admin.md``.

May import ``plugin.runs``, ``plugin.sync``, ``plugin.sso``, ``plugin.config``, ``mappers``,
``connectors`` and itself; only ``plugin.app`` imports it.
"""

from __future__ import annotations

from flask import Flask

from plugin.admin import api, auth, clever_login, views
from plugin.admin import input as _input  # noqa: F401  (its check runs after auth.guard)
from plugin.admin.blueprint import URL_PREFIX, bp
from plugin.admin.services import init_app

__all__ = ["URL_PREFIX", "api", "auth", "bp", "clever_login", "init_app", "register", "views"]


def register(app: Flask) -> None:
    """Mount the page on ``app`` and make its services and template helpers available."""
    init_app(app)
    app.register_blueprint(bp, url_prefix=URL_PREFIX)
    app.jinja_env.globals["csrf_token"] = auth.csrf_token
