"""Single sign-on: Clever registered as Keycloak's identity broker (``broker``, ``broker_flow``,
``profile_rules``), logins started at Clever (``portal``), which ``clever`` links the sync trusts
(``links``), and the sidecar's own service account (``setup``).

May import ``plugin.config``, ``mappers``, ``connectors`` and itself.
"""
