"""Pure policy: name matching, class names, parents, the group layout. No I/O here.

May import ``mappers`` itself and the plain data (``model``) only: never ``connectors`` (I/O),
never ``plugin``. ``tests/unit/test_layers.py`` checks it.
"""
