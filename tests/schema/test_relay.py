"""relay-compiler accepts the schema, and the documents it writes run on the gateway.

relay-compiler checks the schema against Relay's conventions as it compiles: a
``Node`` interface with ``id: ID!``, ``node(id:)`` for ``@refetchable`` fragments,
connections with ``edges``/``cursor``/``pageInfo`` for ``@connection``. The project in
``tests/clients/relay`` is a few components' worth of real Relay queries.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Stack


@pytest.fixture(scope="module")
def relay_output(relay_manifest: Path) -> dict[str, str]:
    """The documents relay-compiler persisted, by id."""
    persisted: dict[str, str] = json.loads(relay_manifest.read_text())
    return persisted


def test_relay_compiler_compiles_every_operation(relay_output: dict[str, str]) -> None:
    names = sorted(text.split("(")[0].removeprefix("query ") for text in relay_output.values())
    assert names == ["MeetingCardRefetchQuery", "MeetingsPagePaginationQuery", "MeetingsPageQuery"]


def test_relay_ids_are_the_sha256_of_the_document(relay_output: dict[str, str]) -> None:
    for document_id, text in relay_output.items():
        assert hashlib.sha256(text.encode()).hexdigest() == document_id


def test_every_compiled_document_runs_on_the_gateway(
    gateway: Stack, relay_output: dict[str, str]
) -> None:
    by_name = {text.split("(")[0].removeprefix("query "): text for text in relay_output.values()}
    first = gateway.data(by_name["MeetingsPageQuery"], {"count": 3})["meetings"]
    assert len(first["edges"]) == 3
    cursor = first["pageInfo"]["endCursor"]
    following = gateway.data(by_name["MeetingsPagePaginationQuery"], {"count": 3, "cursor": cursor})
    ids = [e["node"]["id"] for e in first["edges"] + following["meetings"]["edges"]]
    assert len(set(ids)) == 6
    refetched: dict[str, Any] = gateway.data(by_name["MeetingCardRefetchQuery"], {"id": ids[0]})
    assert refetched["node"]["id"] == ids[0]
    assert refetched["node"]["title"] == first["edges"][0]["node"]["title"]
