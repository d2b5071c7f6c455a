"""What the admin views share per app: Settings, Redis, a cached Keycloak admin client, the stores."""

from __future__ import annotations

import threading

from flask import Flask, current_app
from keycloak import KeycloakAdmin
from redis import Redis

from connectors.clever import CleverClient
from connectors.keycloak import admin_client
from plugin.config.settings import Settings
from plugin.config.store import ConfigStore, effective_settings

EXTENSION = "clever_admin"


class Services:
    """Built once per app (``init_app``); views reach it through ``services()``.

    Settings are read from ``app.config["SETTINGS"]`` on each use (tests and the demo may swap them
    after ``create_app``, e.g. once the served URL is known); clients follow when they change.
    """

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._redis: tuple[str, Redis] | None = None
        self._admin: tuple[object, KeycloakAdmin] | None = None
        self.admin_client_ensured = ""  # the redirect URI the page's client was last ensured with

    @property
    def settings(self) -> Settings:
        settings: Settings = self._app.config["SETTINGS"]
        return settings

    @property
    def redis(self) -> Redis:
        url = self.settings.redis_url
        with self._lock:
            if self._redis is None or self._redis[0] != url:
                self._redis = (url, Redis.from_url(url))
            return self._redis[1]

    def keycloak(self) -> KeycloakAdmin:
        """The sidecar's own admin client for the realm (python-keycloak refreshes its token)."""
        wanted = self.settings.keycloak
        with self._lock:
            if self._admin is None or self._admin[0] != wanted:
                self._admin = (wanted, admin_client(wanted))
            return self._admin[1]

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
    app.extensions[EXTENSION] = Services(app)


def services() -> Services:
    found: Services = current_app.extensions[EXTENSION]
    return found
