"""GraphiQL is served by the gateway itself and works in a browser with no internet."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from meetingmesh.graphiql import ASSETS_DIR, CONTENT_SECURITY_POLICY, DEFAULT_QUERY
from tests.conftest import Clients, LiveStack, Stack

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _page(gateway: Stack) -> httpx.Response:
    return gateway.http.get(f"{gateway.gateway_url}/graphql", headers={"Accept": "text/html"})


def test_the_page_loads_nothing_from_another_origin(gateway: Stack) -> None:
    page = _page(gateway)
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert references
    assert all(r == "data:," or r.startswith("/graphiql/") for r in references), references
    assert "<script>" not in page.text  # no inline script: the policy forbids them


def test_every_asset_is_served_as_pinned_with_its_licence(gateway: Stack) -> None:
    records = json.loads((ASSETS_DIR / "VERSIONS.json").read_text())
    for record in records:
        served = gateway.http.get(f"{gateway.gateway_url}/graphiql/{record['file']}")
        assert served.status_code == 200, record["file"]
        assert hashlib.sha256(served.content).hexdigest() == record["sha256"], record["file"]
    packages = {r["package"] for r in records}
    licences = {r["package"] for r in records if r["file"].startswith("LICENSE")}
    assert licences == packages


def test_the_default_query_is_the_readmes_first_example() -> None:
    first = re.findall(r"```graphql\n(.*?)```", README, flags=re.S)[0]
    assert first == DEFAULT_QUERY


def test_graphiql_runs_a_query_in_chromium_with_only_loopback_reachable(
    gateway: Stack, clients: Clients, tmp_path: Path
) -> None:
    seen = clients.run(
        "graphiql_browser.mjs",
        url=f"{gateway.gateway_url}/graphql",
        chromium=clients.chromium,
        screenshot=str(tmp_path / "graphiql.png"),
    )
    outside = [u for u in seen["requests"] if urlsplit(u).hostname not in ("127.0.0.1", None)]
    assert not outside, outside
    assert "error" not in seen, seen
    assert seen["violations"] == []
    assert seen["pageErrors"] == []
    assert seen["csp"] == CONTENT_SECURITY_POLICY
    assert seen["editorText"] == DEFAULT_QUERY
    expected = gateway.data(DEFAULT_QUERY)["meetings"]["totalCount"]
    assert seen["answer"]["data"]["meetings"]["totalCount"] == expected
    assert f'"totalCount": {expected}' in seen["resultText"]
    assert "query: Query" in seen["docsText"]


@pytest.mark.parametrize("transport", ["ws", "sse"])
def test_graphiql_runs_a_subscription_over_either_transport(
    live: LiveStack, clients: Clients, transport: str
) -> None:
    room = f"graphiql-{transport}"
    query = (
        f'subscription {{ meetingUpdated(filter: {{room: "{room}"}}) '
        "{ changes meeting { title status } } }"
    )
    seen = clients.run(
        "graphiql_subscription.mjs",
        url=f"{live.gateway_url}/graphql",
        transport=transport,
        chromium=clients.chromium,
        query=query,
        metricsUrl=f"{live.gateway_url}/metrics",
        trigger={"url": f"{live.provider_url('daily')}/_sim/webhooks/join", "body": {"room": room}},
    )
    assert "error" not in seen, seen
    assert seen["violations"] == []
    assert seen["pageErrors"] == []
    assert seen["deliveries"] == [200, 200]
    result = json.loads(seen["resultText"])
    assert result["data"]["meetingUpdated"]["meeting"] == {"title": room, "status": "ONGOING"}
    socket = f"{live.gateway_url.replace('http', 'ws')}/graphql"
    assert (socket in seen["requests"]) is (transport == "ws")
    outside = [u for u in seen["requests"] if urlsplit(u).hostname not in ("127.0.0.1", None)]
    assert not outside, outside
