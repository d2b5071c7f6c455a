"""The sidecar: Flask app factory, broker registration, the sync pipeline and its jobs."""

from __future__ import annotations

from flask import Flask

from plugin.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the sidecar's Flask app from Settings (read from the environment when not given)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["SECRET_KEY"] = settings.secret_key or None

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
