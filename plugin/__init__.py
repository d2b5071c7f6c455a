"""The sidecar: the Flask app (``plugin.app``), broker registration, the sync pipeline and its jobs.

Nothing is imported here: the RQ worker imports the sync without Flask (about 10 MB less resident).
"""
