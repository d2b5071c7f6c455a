"""``create_app(SandboxConfig(...))``: one Flask app playing both clever.com and api.clever.com."""

from __future__ import annotations

import logging

from flask import Flask, Response

from sandbox import admin, data_api, oauth, oidc, sessions
from sandbox.config import SandboxConfig
from sandbox.faults import FaultInjector, RateLimiter
from sandbox.generator import generate
from sandbox.roster_file import load_roster
from sandbox.state import SandboxState

log = logging.getLogger(__name__)


def create_app(config: SandboxConfig | None = None) -> Flask:
    """A sandbox serving a generated district (``size``/``seed``) or a roster file (``roster``).

    Its state is ``app.extensions["clever_sandbox"]`` (a ``SandboxState``).
    """
    config = config or SandboxConfig()
    warnings: list[str] = []
    roster = load_roster(config.roster, warnings) if config.roster else generate(config.size, config.seed)
    for warning in warnings:
        log.warning("roster file: %s", warning)
    app = Flask(__name__)
    app.extensions["clever_sandbox_warnings"] = warnings
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["clever_sandbox"] = SandboxState(config, roster)
    app.extensions["clever_sandbox_limiter"] = RateLimiter(config.rate_limit, config.clock)
    faults = config.fault_spec()
    app.extensions["clever_sandbox_faults"] = FaultInjector(faults, config.clock) if faults.active else None
    app.register_blueprint(data_api.bp)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(oidc.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(sessions.bp)

    @app.get("/")
    def index() -> Response:
        """Where things are."""
        links = {
            "login": "/oauth/authorize?client_id=...&redirect_uri=...",
            "portal": "/portal",
            "logout": "/logout",
            "discovery": "/.well-known/openid-configuration",
            "data_api": "/v3.0/districts",
        }
        return Response(app.json.dumps({"clever_sandbox": links}), mimetype="application/json")

    return app
