"""The benchmark end to end at the tiny size: our full sync (a) on both paths, the floor (c), the
no-op runs (d).

No timing is asserted (the machine is shared); only that every field is there and sane.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.chart import chart, table
from bench.env import Services
from bench.run import bench_size, machine

pytestmark = pytest.mark.integration


def test_tiny_bench_reports_every_field(services_env: dict[str, str], tmp_path: Path) -> None:
    result = bench_size(Services(), "tiny", methods=("a", "a_rest", "c", "d"), workers=1)
    json.dumps(result)  # the results file is JSON
    people = result["people"]
    assert people > result["students"] > 0 and result["groups"] > 0
    methods = result["methods"]
    assert set(methods) == {"a", "a_rest", "c", "d", "d_events"}

    full = methods["a"]
    assert full["status"] == "ok" and full["error_count"] == 0, full["errors"]
    assert full["people"] == people and full["seconds"] > 0 and full["people_per_second"] > 0
    assert full["kinds"]["students"]["created"] == result["students"]
    rest = methods["a_rest"]
    assert rest["status"] == "ok" and rest["kinds"] == full["kinds"]
    assert rest["keycloak_writes"] > people  # one POST per person plus the group tree
    # The extension path: the people and most groups in a few batches.
    assert full["keycloak_writes"] < people < rest["keycloak_writes"], (full["keycloak_calls"], rest)
    assert full["ldap_writes"] > 0  # the school and class groups
    assert full["keycloak_http_calls"] >= full["keycloak_writes"]
    assert 3 <= full["clever_requests"] <= 20  # one page per collection plus a few look-ups
    assert 20_000 < full["worker_peak_rss_kb"] < 1_000_000

    rerun = methods["d"]
    assert rerun["status"] == "ok" and rerun["keycloak_writes"] == 0 and rerun["ldap_writes"] == 0
    assert rerun["kinds"]["students"]["unchanged"] == result["students"]
    assert methods["d_events"]["status"] == "no-changes"
    assert methods["d_events"]["keycloak_http_calls"] == 0

    floor = methods["c"]
    assert floor["people"] == people and floor["detail"]["added"] >= people  # users + top-level groups

    ratios = result["ratios"]
    assert ratios["a_over_c_per_person"] and ratios["a_over_c_per_person"] > 0
    assert ratios["d_over_a"] and ratios["d_over_a"] > 0
    assert ratios["a_rest_over_a"] and ratios["a_rest_over_a"] > 0
    assert ratios["e_over_a"] is None and ratios["a_over_b_per_person"] is None
    assert result["targets"]["worker_rss"]["limit_kb"] == 100 * 1024 + people

    services = Services()
    described = machine(services)
    assert described["keycloak_backend"] == services_env["KEYCLOAK_BACKEND"] == services.keycloak_backend
    run = {"machine": {"nproc": 2, "keycloak": "test", "keycloak_backend": "postgres"}, "sizes": [result]}
    chart(run, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
    assert "(a) our full sync" in table(run)


def test_tiny_peer_with_the_group_mapper_imports_the_people_groups_and_memberships(
    services_env: dict[str, str],
) -> None:
    result = bench_size(Services(), "tiny", methods=("b2",), workers=1)
    peer = result["methods"]["b2"]
    assert peer["people"] == result["people"] > 0
    assert peer["detail"]["users"]["added"] == result["people"]
    # every group somebody is in, made by the mapper's sync, with every membership the roster calls for
    assert peer["detail"]["groups"]["added"] == peer["ldap_groups"] > 0
    assert peer["detail"]["memberships"] > result["people"]  # a school role group and classes each
    assert result["ratios"]["a_over_b2_per_person"] is None  # (a) did not run
