"""The sidecar: the Flask app (``plugin.app``), broker registration, the sync pipeline and its jobs.

May import ``mappers``, ``connectors`` and itself; never ``sandbox``, ``bench`` or ``tests``. Only the
entry points (``worker.py``, ``wsgi.py``) import it from above. ``tests/unit/test_layers.py`` checks it.

Nothing is imported here: the RQ worker imports the sync without Flask (about 10 MB less resident).
"""
