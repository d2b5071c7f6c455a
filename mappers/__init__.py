"""Pure policy: name matching, class names, parents, the group layout. No I/O here.

May import ``mappers`` itself and the connectors' plain data only (``connectors.records``,
``state``, ``config``, ``text``, ``base``): never a connector's client, never ``plugin``.
``tests/unit/test_layers.py`` checks it.
"""
