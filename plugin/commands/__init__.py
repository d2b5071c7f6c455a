"""The command line: ``keycloak-clever`` (``cli``) and its ``sync``/``status`` (``sync_cli``), ``broker``
(``broker_cli``) and ``demo`` (``demo``, with the background processes it starts: ``processes``).

The top of ``plugin``: may import any of it.
"""
