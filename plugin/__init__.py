"""The sidecar, in layers (each may import only those below it; ``tests/unit/test_layers.py`` checks):

``commands`` (the CLI) → ``app`` (the Flask app) → ``admin`` (the page) → ``runs`` (jobs, lock,
schedule) → ``sync`` (the pipeline) → ``sso`` (the broker, links) → ``config`` (settings, secrets).

May import ``mappers``, ``connectors``, ``model`` and itself; never ``sandbox``, ``bench`` or
``tests``. Only the entry points (``worker.py``, ``wsgi.py``) import it from above.
``tests/unit/test_layers.py`` checks it.

Nothing is imported here: the RQ worker imports the sync without Flask (about 10 MB less resident).
"""
