"""The sync pipeline: ``pipeline.run_sync`` orders the stages (fetch, map, plan, brake, apply, report);
``full_read`` and ``incremental`` fetch, map and plan (the whole roster, or Clever's events), ending
in a ``planned.Planned``; ``desired`` maps, ``plan`` diffs, ``brake``, ``apply``, ``report`` and
``departed`` do the rest; ``applied`` is the memory between runs; ``run_options`` the run's flags.

May import ``plugin.config``, ``plugin.sso`` (the User Profile and the trusted links), ``mappers``,
``connectors`` and itself; never the jobs, the admin page or the commands above it.
"""
