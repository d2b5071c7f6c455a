"""The blueprint object, apart so every view module can import it without a cycle."""

from __future__ import annotations

from flask import Blueprint

from plugin.sso.redirects import ADMIN_PAGE_PREFIX

URL_PREFIX = ADMIN_PAGE_PREFIX  # Configuration > Authentication > Clever

bp = Blueprint("clever_admin", __name__, template_folder="templates")
