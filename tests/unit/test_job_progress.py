"""A job's progress for the admin page's bar: throttled, and the end of each stage always written."""

from __future__ import annotations

from typing import Any, cast

from rq.job import Job

from plugin.runs.jobs import JobProgress


class _Job:
    """Just what ``JobProgress`` touches of an RQ job: ``meta`` and ``save_meta``."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.saved: list[dict[str, int | str]] = []

    def save_meta(self) -> None:
        self.saved.append(dict(self.meta["progress"]))


def test_progress_is_written_at_most_every_half_second_and_always_at_the_end() -> None:
    job, moments = _Job(), iter([0.0, 0.1, 0.4, 0.6, 0.7, 0.8])
    progress = JobProgress(cast(Job, job), every=0.5, now=lambda: next(moments))
    for done in range(1, 7):
        progress("keycloak", done, 6)
    assert [p["done"] for p in job.saved] == [1, 4, 6]
    assert job.meta["progress"] == {"stage": "keycloak", "done": 6, "total": 6}
