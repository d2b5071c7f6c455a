"""The sync pipeline: ``pipeline.run_sync`` orders the stages (fetch, map, plan, brake, apply,
remember, report); ``planner`` reads a ``snapshot`` of Clever (the whole roster, or what Clever's
events touch: ``snapshot_events``) and the directory for its ``scope`` (``current``), maps it
(``desired``, ``desired_people``) and diffs it (``plan``, ``plan_ldap``), ending in a
``planned.Planned``; ``brake``, ``apply``, ``memory`` (what a run remembers: ``applied``) and
``report`` do the rest; ``run_options`` holds the run's flags.

May import ``plugin.config``, ``plugin.sso`` (the User Profile and the trusted links), ``mappers``,
``connectors`` and itself; never the jobs, the admin page or the commands above it.
"""
