"""Runs of the sync as a district runs them: RQ jobs, the per-district lock and lease, the weekly
window (``jobs``, ``queues``, ``state``), the standing waiting list (``standing``), progress and
metrics (``progress``, ``metrics``), and the sharded scale-out (``scaleout``).

May import ``plugin.sync``, ``plugin.sso``, ``plugin.config``, ``mappers``, ``connectors`` and itself.
"""
