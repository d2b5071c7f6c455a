"""The blueprint object, apart so every view module can import it without a cycle."""

from __future__ import annotations

from flask import Blueprint

URL_PREFIX = "/configuration/authentication/clever"

bp = Blueprint("clever_admin", __name__, template_folder="templates")
