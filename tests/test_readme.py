"""Every GraphQL example in the README runs as shown."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from tests.conftest import LiveStack, Stack
from tests.subscriber import SSESubscriber

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README, flags=re.S)
QUERIES = [e for e in EXAMPLES if not e.lstrip().startswith("subscription")]
SUBSCRIPTIONS = [e for e in EXAMPLES if e.lstrip().startswith("subscription")]


def test_the_readme_has_examples() -> None:
    assert len(QUERIES) >= 6
    assert len(SUBSCRIPTIONS) == 3


@pytest.mark.parametrize("query", QUERIES, ids=[f"example-{i}" for i in range(len(QUERIES))])
def test_readme_example_runs_without_errors(gateway: Stack, query: str) -> None:
    data = gateway.data(query)
    assert data
    assert all(value is not None for value in data.values()), data


@pytest.mark.parametrize(
    "subscription", SUBSCRIPTIONS, ids=[f"subscription-{i}" for i in range(len(SUBSCRIPTIONS))]
)
def test_readme_subscription_receives_an_update(live: LiveStack, subscription: str) -> None:
    # The examples watch the "standup" room and the "menelson" page: make both change.
    session = live.join("standup")["meeting_id"]
    meeting_id = base64.urlsafe_b64encode(f"Meeting:daily:{session}".encode()).decode()
    variables = {"meetingId": meeting_id.rstrip("=")}
    with SSESubscriber(f"{live.gateway_url}/graphql", subscription, variables) as subscriber:
        live.wait_subscriptions(1)
        live.join("standup")
        live.control("hubspot", "meeting", change="creation")
        update = subscriber.next()
    assert "errors" not in update, update
    assert all(value is not None for value in update["data"].values()), update
