"""What the admin views share per app: Settings, Redis, a cached Keycloak admin client, the stores."""

from __future__ import annotations

import threading

from flask import Flask, current_app
from keycloak import KeycloakAdmin
from redis import Redis

from connectors.clever import CleverClient
from connectors.keycloak import admin_client
from plugin.admin.store import ConfigStore, effective_settings
from plugin.settings import Settings

EXTENSION = "clever_admin"


class Services:
    """Built once per app (``init_app``); views reach it through ``services()``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis = Redis.from_url(settings.redis_url)
        self._admin: KeycloakAdmin | None = None
        self._lock = threading.Lock()
        self.admin_client_ensured = False

    def keycloak(self) -> KeycloakAdmin:
        """The sidecar's own admin client for the realm (python-keycloak refreshes its token)."""
        with self._lock:
            if self._admin is None:
                self._admin = admin_client(self.settings.keycloak)
            return self._admin

    def store(self) -> ConfigStore:
        return ConfigStore(self.redis, self.settings)

    def effective(self) -> Settings:
        """Settings with the page's Clever app, district and options applied."""
        store = self.store()
        return effective_settings(self.settings, store.load(), store.client_secret())

    def clever(self) -> CleverClient:
        """A Clever client for the configured app and district (short timeouts: a person waits)."""
        return CleverClient(self.effective().clever, timeout=(5.0, 30.0), max_retries=2)

    @property
    def realm(self) -> str:
        return self.settings.keycloak.realm


def init_app(app: Flask) -> None:
    settings: Settings = app.config["SETTINGS"]
    app.extensions[EXTENSION] = Services(settings)


def services() -> Services:
    found: Services = current_app.extensions[EXTENSION]
    return found
