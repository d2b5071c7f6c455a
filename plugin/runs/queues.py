"""RQ with JSON only: every Queue, Worker and Job.fetch of keycloak-clever goes through here.

RQ pickles job arguments, results and metadata by default, and a worker unpickles whatever it finds
in Redis: whoever can write to Redis could make every worker run code. With RQ's own
``JSONSerializer`` nothing stored in Redis is executable; a job that was pickled (by another client,
or by an older version of this sidecar) is not unpickled but fails as undecodable.

So job arguments must be JSON: the sync jobs take ids, flags and strings (``plugin.runs.jobs``); the
scale-out shards get their part of the plan as JSON (``plugin.sync.plan_json``). No job payload carries a
secret: a worker reads its credentials from its own environment (``KCC_*``) and the page's secrets
from the encrypted store (``plugin.config.secrets``).
"""

from __future__ import annotations

from collections.abc import Sequence

from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.serializers import JSONSerializer

SERIALIZER = JSONSerializer


def queue(name: str, connection: Redis) -> Queue:
    """The queue ``name`` with the JSON serializer."""
    return Queue(name, connection=connection, serializer=SERIALIZER)


def fetch(job_id: str, connection: Redis) -> Job:
    """A job by id, decoded as JSON (``NoSuchJobError`` when it is gone)."""
    return Job.fetch(job_id, connection=connection, serializer=SERIALIZER)


def worker(queues: Sequence[Queue], connection: Redis, worker_class: type[Worker] = Worker) -> Worker:
    """A worker (``SimpleWorker`` in tests and the benchmark) that decodes jobs as JSON only."""
    return worker_class(list(queues), connection=connection, serializer=SERIALIZER)
