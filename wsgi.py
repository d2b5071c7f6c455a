"""Thin WSGI entry point: ``gunicorn wsgi:app``."""

from plugin.app import create_app

app = create_app()
