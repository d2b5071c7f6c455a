"""The plain data every layer shares, on the ground floor: it imports nothing of the project.

``records``: Clever's records; ``state``: desired and current state, the plan's parts, realm
accounts; ``ownership``: the one rule of who owns an account (the extension's ``Ownership.java``
reads it the same way); ``config``: connection settings; ``text``: pure text helpers (the name
fold, RDN escaping, DNs); ``base``: the error taxonomy and the Protocols a roster is read through.
``connectors`` (I/O), ``mappers`` (policy) and ``plugin`` (the sidecar) all import from here;
``tests/unit/test_layers.py`` checks that nothing here imports them.
"""
