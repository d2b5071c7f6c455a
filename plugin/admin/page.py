"""The admin page mounted on the sidecar's Flask app: its blueprint, services and template helpers."""

from __future__ import annotations

from flask import Flask

from plugin.admin import api, auth, clever_login, views
from plugin.admin import input as _input  # noqa: F401  (its check runs after auth.guard)
from plugin.admin.blueprint import URL_PREFIX, bp
from plugin.admin.services import init_app

__all__ = ["URL_PREFIX", "api", "clever_login", "register", "views"]


def register(app: Flask) -> None:
    """Mount the page on ``app`` and make its services and template helpers available."""
    init_app(app)
    app.register_blueprint(bp, url_prefix=URL_PREFIX)
    app.jinja_env.globals["csrf_token"] = auth.csrf_token
