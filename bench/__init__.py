"""Benchmarks: our sync against Keycloak's own LDAP sync and its bulk-import floor, in one run.

``python -m bench --sizes S,M`` (``make bench``); see ``bench/README.md``.
"""
