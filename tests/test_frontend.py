"""The README's "Using it from a frontend" set-ups run as written, with the real libraries."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from meetingmesh.app import create_app
from meetingmesh.config import Settings
from meetingmesh.schema import possible_types
from meetingmesh.serving import start_in_thread
from meetingmesh.simulators.server import gateway_settings
from tests.clients import harness
from tests.conftest import Clients, Stack

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SECTION = README.split("## Using it from a frontend", 1)[1].split("\n## ", 1)[0]
#: The section's modules by the file name on their first line.
MODULES = {
    m.group(1): m.group(0)
    for m in re.finditer(r"(?<=```js\n)// (\S+\.mjs)\n.*?(?=```)", SECTION, flags=re.S)
}
RELAY_CONFIG = json.loads(re.findall(r"```json\n(.*?)```", SECTION, flags=re.S)[0])


@pytest.fixture(scope="module")
def project(clients: Clients) -> Iterator[Path]:
    """The README's files in a scratch folder beside the installed client libraries."""
    work = Path(harness.HERE / f".readme-{id(clients)}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    for name, text in MODULES.items():
        (work / name).write_text(text)
    (work / "possible-types.json").write_text(json.dumps(possible_types()))
    relay = work / "relay"
    relay.mkdir()
    # A fresh app's package.json: relay-compiler's artifacts are CommonJS.
    (relay / "package.json").write_text('{"private": true}')
    (relay / "relay.config.json").write_text(json.dumps(RELAY_CONFIG))
    shutil.copy(ROOT / "schema.graphql", relay / "schema.graphql")
    shutil.copytree(harness.HERE / "relay" / "src", relay / "src")
    (relay / RELAY_CONFIG["persistConfig"]["file"]).write_text("{}")
    done = clients.command("relay-compiler", cwd=relay)
    assert done.returncode == 0, done.stdout + done.stderr
    yield work
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def seen(
    project: Path, clients: Clients, stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """What each README client reported, against fresh gateways (Relay's trusts only it)."""
    base = gateway_settings(stack.sim_url)
    manifest = project / "relay" / RELAY_CONFIG["persistConfig"]["file"]
    trusted = replace(base.server, trusted_documents=str(manifest))
    open_gateway = start_in_thread(create_app(base))
    relay_gateway = start_in_thread(create_app(Settings(server=trusted, providers=base.providers)))
    try:
        yield clients.run(
            "frontend_readme.mjs",
            dir=str(project),
            url=f"{open_gateway.url}/graphql",
            relayUrl=f"{relay_gateway.url}/graphql",
        )
    finally:
        open_gateway.stop()
        relay_gateway.stop()


def test_the_section_has_each_clients_set_up() -> None:
    assert set(MODULES) == {"apollo.mjs", "urql.mjs", "relay.mjs"}
    assert "persistConfig" in RELAY_CONFIG


def _first_ids(gateway: Stack, count: int) -> list[str]:
    data = gateway.data(f"{{ meetings(first: {count}) {{ edges {{ node {{ id }} }} }} }}")
    return [e["node"]["id"] for e in data["meetings"]["edges"]]


def test_apollo_pages_meetings_into_one_list(gateway: Stack, seen: dict[str, Any]) -> None:
    apollo = seen["apollo"]
    assert apollo["mergedIds"] == _first_ids(gateway, 6)
    assert apollo["firstIds"] == _first_ids(gateway, 3)


def test_apollo_batches_and_persists_its_queries(seen: dict[str, Any]) -> None:
    apollo = seen["apollo"]
    assert "query" not in apollo["firstRequest"][0]
    assert "persistedQuery" in apollo["firstRequest"][0]["extensions"]
    # Two queries at once: one batch, first by hash only, then once more with the text.
    assert [len(batch) for batch in apollo["batched"]] == [2, 2]
    assert apollo["providers"] == 4
    assert apollo["total"] > 0


def test_apollo_matches_fragments_on_node_with_possible_types(seen: dict[str, Any]) -> None:
    node = seen["apollo"]["node"]
    assert node is not None
    assert node["id"] == seen["apollo"]["firstIds"][0]


def test_urql_sends_its_persisted_query_as_get(gateway: Stack, seen: dict[str, Any]) -> None:
    urql = seen["urql"]
    assert urql["error"] is None
    total = gateway.data("{ meetings(first: 2) { totalCount } }")["meetings"]["totalCount"]
    assert urql["data"]["meetings"]["totalCount"] == total
    assert {r["method"] for r in urql["requests"]} == {"GET"}
    first = parse_qs(urlsplit(urql["requests"][0]["url"]).query)
    assert "query" not in first
    assert "persistedQuery" in json.loads(first["extensions"][0])


def test_relay_runs_by_document_id_on_a_trusted_gateway(
    gateway: Stack, seen: dict[str, Any]
) -> None:
    relay = seen["relay"]
    assert relay["data"] is not None
    assert [set(sent) for sent in relay["sent"]] == [{"doc_id", "variables"}]
    assert relay["sent"][0]["variables"]["count"] == 2
    assert sorted(relay["meetingIds"]) == sorted(_first_ids(gateway, 2))
