"""District-app token rotation over HTTP: the old token is refused, the list shows the new one, and
``CleverClient`` looks the token up again once and carries on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from click.testing import CliRunner

from connectors.clever import CleverClient
from model.base import ConfigError
from model.config import CleverSettings
from sandbox.app import create_app
from sandbox.cli import sandbox as sandbox_cli
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState

pytestmark = pytest.mark.integration
CREDENTIALS = ("sandbox-client", "sandbox-secret")


@pytest.fixture
def running() -> Iterator[tuple[str, SandboxState]]:
    app = create_app(SandboxConfig(size=30, seed=13))
    with serve(app) as url:
        yield url, app.extensions["clever_sandbox"]


def listed(url: str) -> list[str]:
    answer = requests.get(f"{url}/oauth/tokens?owner_type=district", auth=CREDENTIALS, timeout=10)
    return [t["access_token"] for t in answer.json()["data"]]


def schools(url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{url}/v3.0/schools", headers=headers, timeout=10).status_code


def test_the_rotate_endpoint_needs_credentials_and_swaps_the_token(running: tuple[str, SandboxState]) -> None:
    url, state = running
    old = state.district_token
    assert listed(url) == [old] and schools(url, old) == 200
    assert requests.post(f"{url}/sandbox/tokens/rotate", timeout=10).status_code == 401
    unknown = requests.post(
        f"{url}/sandbox/tokens/rotate", json={"district": "0" * 24}, auth=CREDENTIALS, timeout=10
    )
    assert unknown.status_code == 404 and listed(url) == [old]

    answer = requests.post(f"{url}/sandbox/tokens/rotate", auth=CREDENTIALS, timeout=10).json()
    new = answer["access_token"]
    assert answer["district"] == state.district_id and new != old
    assert schools(url, old) == 401 and schools(url, new) == 200
    assert listed(url) == [new] == [state.district_token]
    token = requests.get(f"{url}/oauth/tokens?owner_type=district", auth=CREDENTIALS, timeout=10).json()
    assert token["data"][0]["id"] == new[:24] and token["data"][0]["owner"]["id"] == state.district_id
    # The state method does the same.
    newest = state.rotate_district_token()
    assert schools(url, new) == 401 and listed(url) == [newest]


def test_the_client_looks_a_refused_token_up_again_once(running: tuple[str, SandboxState]) -> None:
    url, state = running
    settings = CleverSettings(
        oauth_url=url, api_url=url, client_id=CREDENTIALS[0], client_secret=CREDENTIALS[1]
    )
    client = CleverClient(settings, page_size=5, backoff=0.01, max_backoff=0.1)
    expected = sorted(state.store.raw["users"])
    users = client.users()
    first_page = [next(users).clever_id for _ in range(5)]  # token looked up, one page read
    before = client.requests_made
    requests.post(f"{url}/sandbox/tokens/rotate", auth=CREDENTIALS, timeout=10).raise_for_status()

    rest = [u.clever_id for u in users]  # the next page meets a 401 mid-stream
    assert first_page + rest == expected  # nothing lost, nothing twice
    pages = -(-len(expected) // 5)
    # pages left + the refused request + one look-up of the new token
    assert client.requests_made - before == (pages - 1) + 2
    assert client.token_for(state.district_id) == state.district_token  # the cached one is the new one

    state.rotate_district_token()
    assert [s.clever_id for s in client.schools()] == sorted(state.store.raw["schools"])

    # Refused again straight after a fresh look-up: a config error, not a loop.
    state.config.client_secret = "changed"  # the app's secret changed too: the look-up is refused
    state.rotate_district_token()
    with pytest.raises(ConfigError):
        list(client.schools())


def test_the_cli_rotates_a_running_sandboxs_token(running: tuple[str, SandboxState]) -> None:
    url, state = running
    old = state.district_token
    result = CliRunner().invoke(sandbox_cli, ["mutate", "--url", url, "rotate-token"])
    assert result.exit_code == 0, result.output
    assert result.output.split() == [state.district_id, state.district_token] and old != state.district_token
    assert schools(url, old) == 401
    wrong = CliRunner().invoke(sandbox_cli, ["mutate", "--url", url, "rotate-token", "--district", "0" * 24])
    assert wrong.exit_code != 0 and "no district" in wrong.output
