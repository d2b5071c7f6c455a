"""The sidecar's Flask app: the portal login route, the health check and the admin page.

It refuses to start without a strong ``KCC_SECRET_KEY`` and sends the security headers on every
response (``plugin.config.hardening``).
"""

from __future__ import annotations

from flask import Flask, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from plugin.admin.auth import guard
from plugin.admin.page import register as register_admin
from plugin.admin.services import services
from plugin.config.hardening import add_security_headers, require_secret_key
from plugin.config.settings import Settings
from plugin.runs.metrics import RunCollector
from plugin.sso import logout, portal


def create_app(settings: Settings | None = None) -> Flask:
    """Build the sidecar's Flask app from Settings (read from the environment when not given)."""
    settings = settings or Settings.from_env()
    require_secret_key(settings.secret_key)
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["SECRET_KEY"] = settings.secret_key
    app.config.update(
        SESSION_COOKIE_NAME="kcc_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=8 * 3600,
    )

    app.after_request(add_security_headers)
    app.register_blueprint(portal.bp)
    app.register_blueprint(logout.bp)  # a Keycloak sign-out of a Clever login signs out of Clever too

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    register_admin(app)  # Configuration > Authentication > Clever
    _metrics(app)
    return app


def _metrics(app: Flask) -> None:
    """``/metrics`` (Prometheus text), for admins only: the admin page's guard decides."""

    @app.get("/metrics")
    def metrics() -> Response:
        refused = guard()
        if refused is not None:
            return refused
        registry = CollectorRegistry(auto_describe=False)  # reads Redis at each scrape
        registry.register(RunCollector(services().redis))
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
