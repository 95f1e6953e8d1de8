"""The harness every simulator shares: faults kept to one endpoint."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.simulators.faults import Faults, FaultSettingsError
from meetingmesh.simulators.server import MOUNTS, TOKENS, create_simulators

Serve = Callable[[ASGIApp], str]
AUTH = {"Authorization": f"Bearer {TOKENS['daily']}"}


def test_faults_naming_an_endpoint_break_only_that_endpoint(serve: Serve) -> None:
    url = serve(create_simulators(size=24).app) + MOUNTS["daily"]
    faults = {"error_rate": 1, "error_status": 503, "endpoint": "GET /meetings/{meeting_id}"}
    assert httpx.put(f"{url}/_sim/faults", json=faults).json()["endpoint"] == faults["endpoint"]
    listed = httpx.get(f"{url}/meetings", params={"limit": 1}, headers=AUTH)
    assert listed.status_code == 200
    one = httpx.get(f"{url}/meetings/{listed.json()['data'][0]['id']}", headers=AUTH)
    assert one.status_code == 503


def test_faults_without_an_endpoint_break_every_endpoint(serve: Serve) -> None:
    url = serve(create_simulators(size=24).app) + MOUNTS["daily"]
    httpx.put(f"{url}/_sim/faults", json={"malformed_rate": 1})
    response = httpx.get(f"{url}/meetings", params={"limit": 1}, headers=AUTH)
    with pytest.raises(ValueError):
        response.json()


def test_an_endpoint_that_is_not_text_is_refused() -> None:
    with pytest.raises(FaultSettingsError):
        Faults.from_mapping({"endpoint": 5})
