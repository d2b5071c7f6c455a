"""Prometheus metrics of the sync, kept in Redis so the sidecar shows what every worker did.

Runs happen in RQ workers and CLI processes; the sidecar's ``/metrics`` is another process. So a
finished run adds its numbers to one Redis hash per district (``kcc:metrics:<district>``,
``record_run``), and the sidecar's collector (``RunCollector``, with ``prometheus_client``) reads
those hashes at scrape time. Nothing is lost when a worker restarts, and any number of workers
and sidecars agree. Metrics (every one labelled ``district``):

=========================================  =======  =============================================
``kcc_sync_runs_total{status}``            counter  runs by final status (ok, partial, failed, held,
                                                    no-changes, dry-run)
``kcc_sync_run_duration_seconds``          summary  ``_sum`` seconds spent in runs, ``_count`` runs
``kcc_sync_last_run_duration_seconds``     gauge    the last run's duration
``kcc_sync_last_success_timestamp_seconds`` gauge   when the last ``ok`` run ended (Unix time)
``kcc_sync_people{kind}``                  gauge    people of each kind synced now (``Standing``)
``kcc_sync_groups{kind}``                  gauge    school and class groups synced now
``kcc_sync_waiting{kind}``                 gauge    waiting-list items by kind
``kcc_sync_writes_total{system}``          counter  writes to keycloak, ldap
``kcc_sync_requests_total{system}``        counter  requests to clever, keycloak
``kcc_sync_errors_total{system}``          counter  Clever retries after an error answer or a broken
                                                    connection; the errors the runs reported, by
                                                    the part each names (clever, keycloak,
                                                    keycloak_database, ldap, redis:
                                                    ``plugin.sync.failures``)
``kcc_sync_freshness_seconds``             gauge    seconds since Clever was last checked by a run
                                                    or continuous tick that ended well: every
                                                    change made in Clever before then is applied
                                                    (the lag; ``plugin.runs.freshness``)
``kcc_sync_last_change_applied_timestamp_seconds`` gauge  when the newest run that wrote a change
                                                    from Clever ended (Unix time)
``kcc_sync_continuous_ticks_total{outcome}`` counter continuous ticks by outcome (checked, ran,
                                                    busy, held, no-cursor, backoff, unchanged,
                                                    failed)
=========================================  =======  =============================================

Alert on the lag, not on the ticks: with continuous updates every N minutes the freshness stays
under N minutes plus a run; above a few times that, Clever or the worker is not answering.

``/metrics`` on the sidecar is for admins only, like the admin page: a signed-in admin, or a bearer
token of an account allowed on the page (Prometheus: ``authorization`` or ``oauth2`` with client
credentials of a client whose service account has the page's role; ``docs/admin.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector
from redis import Redis

from plugin.runs import freshness
from plugin.runs.standing import Standing, StandingStore
from plugin.sync import failures
from plugin.sync.report import SyncReport

PREFIX = "kcc:metrics:"
SYSTEMS = ("clever", "keycloak", "keycloak_database", "ldap", "redis")  # of the error counters
DISTRICTS = "kcc:metrics:districts"


def record_run(redis: Redis, report: SyncReport) -> None:
    """Add a finished run to its district's counters (one pipeline, atomic increments)."""
    key = PREFIX + report.district_id
    requests = report.preview.get("requests", {})
    errors = report.preview.get("errors_by_system", {})
    pipe = redis.pipeline()
    pipe.sadd(DISTRICTS, report.district_id)
    pipe.hincrby(key, f"runs:{report.status}", 1)
    pipe.hincrbyfloat(key, "duration_sum", report.duration_s)
    pipe.hincrby(key, "duration_count", 1)
    pipe.hset(key, "last_duration", report.duration_s)
    if report.status == "ok" and report.ended:
        pipe.hset(key, "last_success", datetime.fromisoformat(report.ended).timestamp())
    for system, count in report.writes.items():
        pipe.hincrby(key, f"writes:{system}", int(count))
    for system in ("clever", "keycloak"):
        pipe.hincrby(key, f"requests:{system}", int(requests.get(system, 0)))
    for system in SYSTEMS:
        pipe.hincrby(key, f"errors:{system}", int(errors.get(system, 0)))
    pipe.execute()
    freshness.note_run(redis, report)


def errors_by_system(report: SyncReport) -> dict[str, int]:
    """The report's errors, counted by the part each names first (``plugin.sync.failures``)."""
    return failures.errors_by_system(report.errors)


class RunCollector(Collector):
    """Reads every district's counters and standing state from Redis at scrape time."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def collect(self) -> Iterator[Metric]:
        label = ["district"]
        runs = CounterMetricFamily("kcc_sync_runs", "Sync runs by final status", labels=[*label, "status"])
        duration = SummaryMetricFamily("kcc_sync_run_duration_seconds", "Seconds spent in runs", labels=label)
        last_duration = GaugeMetricFamily(
            "kcc_sync_last_run_duration_seconds", "The last run's duration", labels=label
        )
        last_success = GaugeMetricFamily(
            "kcc_sync_last_success_timestamp_seconds", "When the last ok run ended", labels=label
        )
        people = GaugeMetricFamily("kcc_sync_people", "People synced now", labels=[*label, "kind"])
        groups = GaugeMetricFamily("kcc_sync_groups", "Groups synced now", labels=[*label, "kind"])
        waiting = GaugeMetricFamily("kcc_sync_waiting", "Waiting-list items", labels=[*label, "kind"])
        writes = CounterMetricFamily("kcc_sync_writes", "Writes", labels=[*label, "system"])
        requests = CounterMetricFamily("kcc_sync_requests", "Requests", labels=[*label, "system"])
        errors = CounterMetricFamily(
            "kcc_sync_errors", "Errors and retried failures", labels=[*label, "system"]
        )
        lag = GaugeMetricFamily(
            "kcc_sync_freshness_seconds",
            "Seconds since Clever was last checked by a run that ended well",
            labels=label,
        )
        applied = GaugeMetricFamily(
            "kcc_sync_last_change_applied_timestamp_seconds",
            "When the newest run that wrote a change from Clever ended",
            labels=label,
        )
        ticks = CounterMetricFamily(
            "kcc_sync_continuous_ticks", "Continuous ticks by outcome", labels=[*label, "outcome"]
        )
        standing_store = StandingStore(self.redis)
        for raw in sorted(self.redis.smembers(DISTRICTS)):
            district = raw.decode() if isinstance(raw, bytes) else str(raw)
            values = {
                (k.decode() if isinstance(k, bytes) else k): float(v)
                for k, v in self.redis.hgetall(PREFIX + district).items()
            }
            for name, value in sorted(values.items()):
                field, _, what = name.partition(":")
                family = {"runs": runs, "writes": writes, "requests": requests, "errors": errors}.get(field)
                if family is not None:
                    family.add_metric([district, what], value)
            duration.add_metric(
                [district],
                count_value=int(values.get("duration_count", 0)),
                sum_value=values.get("duration_sum", 0.0),
            )
            last_duration.add_metric([district], values.get("last_duration", 0.0))
            last_success.add_metric([district], values.get("last_success", 0.0))
            standing: Standing = standing_store.load(district)
            for kind, count in standing.people.items():
                people.add_metric([district, kind], count)
            for kind, count in standing.groups.items():
                groups.add_metric([district, kind], count)
            for kind, items in standing.waiting_by_kind().items():
                waiting.add_metric([district, kind], len(items))
            fresh = freshness.load(self.redis, district)
            if (seconds := fresh.lag_s()) is not None:
                lag.add_metric([district], seconds)
            applied.add_metric([district], fresh.applied)
            for outcome, count in sorted(fresh.ticks.items()):
                ticks.add_metric([district, outcome], count)
        yield from (runs, duration, last_duration, last_success)
        yield from (people, groups, waiting, writes, requests, errors, lag, applied, ticks)
