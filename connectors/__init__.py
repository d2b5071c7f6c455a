"""All I/O with Clever, Keycloak and LDAP: typed records in, typed records out, three kinds of error.

The clients (``clever*``, ``keycloak*``, ``ldap``) and the threads their I/O runs on (``pooling``).
They import only the plain data (``model``), each other and third-party libraries: never ``mappers``
(policy) nor ``plugin`` (the sidecar). ``tests/unit/test_layers.py`` checks it.
"""
