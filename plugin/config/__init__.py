"""The sidecar's configuration: ``KCC_*`` settings, the admin page's saved choices (``store``), secrets
at rest (``secrets``), and the checks the sidecar makes before it serves (``hardening``).

May import ``connectors`` (its plain data and settings) and itself; nothing else of ``plugin``.
"""
