"""All I/O with Clever, Keycloak and LDAP: typed records in, typed records out, three kinds of error.

Below everything. The plain data every layer shares lives here (``records``: Clever's records;
``state``: desired and current state, the plan, realm accounts; ``config``: connection settings;
``text``: pure text helpers; ``base``: Protocols and the error taxonomy). The clients (``clever*``,
``keycloak*``, ``ldap``) import only that plain data, each other and third-party libraries: never
``mappers`` (policy) nor ``plugin`` (the sidecar). ``tests/unit/test_layers.py`` checks it.
"""
