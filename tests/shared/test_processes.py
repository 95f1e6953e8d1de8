"""Three gateway processes sharing one Redis behave, towards the providers, like one.

Every figure comes from the simulators' request statistics (``/_sim/stats``): the
upstream calls each provider answered and the 429s it refused under its published
rate limits (``rate_limits`` switched on where a test says so).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from meetingmesh.domain import Provider
from meetingmesh.persisted import sha256
from meetingmesh.resolvers.ids import encode_id
from meetingmesh.simulators.server import TOKENS, register_webhooks
from tests.conftest import booking_input
from tests.shared.conftest import Cluster, gateway_processes
from tests.subscriber import SSESubscriber

FULL_PAGE = """{ meetings(first: 20) {
  totalCount
  edges { node { id title startTime course { title } hosts { name } attendees { totalCount } } }
} }"""
MEETING = "query($id: ID!) { meeting(id: $id) { id title startTime } }"
AVAILABILITY = """query($slug: String!, $month: Int!) { schedulingLink(slug: $slug) {
  availability(timezone: "America/New_York", monthOffset: $month) { start durationMinutes } } }"""
BOOK = (
    """mutation($input: BookMeetingInput!) { bookMeeting(input: $input) { booking { start } } }"""
)
HEYPEERS_MINT = "POST /api/v2/authenticate"
HUBSPOT_MINT = "POST /oauth/v3/token"
MINTS = {"heypeers": HEYPEERS_MINT, "hubspot": HUBSPOT_MINT}


def reads(cluster: Cluster) -> dict[str, int]:
    """The GETs each provider answered since the test began (token mints left out)."""
    return {
        provider: sum(
            e["count"]
            for name, e in cluster.stats(provider)["endpoints"].items()
            if name[:4] == "GET "
        )
        for provider in TOKENS
    }


def ids(cluster: Cluster, provider: str, path: str, rows: Callable[[Any], list[str]]) -> list[str]:
    """Global meeting ids of a provider's first page, read from its simulator directly."""
    response = cluster.http.get(
        cluster.provider_url(provider) + path,
        headers={"Authorization": f"Bearer {TOKENS[provider]}"},
    )
    assert response.status_code == 200, response.text
    kind = Provider(provider)
    return [encode_id("Meeting", kind, key) for key in rows(response.json())]


def test_the_same_query_round_robin_costs_the_upstream_calls_of_one_process(
    gateways: Cluster,
) -> None:
    first = gateways.data(0, FULL_PAGE)
    one_process = reads(gateways)
    assert one_process == {"heypeers": 1, "thoughtindustries": 1, "daily": 1, "hubspot": 0}
    for index in (1, 2, 0, 1, 2):
        assert gateways.data(index, FULL_PAGE) == first
    assert reads(gateways) == one_process


def test_identical_queries_in_flight_on_every_process_make_one_upstream_call(
    gateways: Cluster,
) -> None:
    # Each answer takes 400 ms, so all nine requests are in flight together.
    gateways.http.put(gateways.provider_url("daily") + "/_sim/faults", json={"latency_ms": 400})
    [meeting_id] = ids(gateways, "daily", "/meetings?limit=1", lambda b: [b["data"][0]["id"]])
    answers = gateways.gather([(i % 3, MEETING, {"id": meeting_id}) for i in range(9)])
    assert all("errors" not in a and a["data"]["meeting"]["id"] == meeting_id for a in answers)
    assert gateways.calls("daily", "GET /meetings/{meeting_id}") == 1


def test_a_burst_across_every_process_stays_within_each_providers_published_rate(
    gateways: Cluster,
) -> None:
    daily = ids(gateways, "daily", "/meetings?limit=45", lambda b: [m["id"] for m in b["data"]])
    ti = ids(
        gateways,
        "thoughtindustries",
        "/incoming/v2/meetings?perPage=25",
        lambda b: [m["id"] for m in b["data"]["Meetings"]["meetings"]],
    )
    links = gateways.data(0, "{ schedulingLinks(first: 12) { edges { node { slug } } } }")
    slugs = [edge["node"]["slug"] for edge in links["schedulingLinks"]["edges"]]
    for harness in gateways.sims.harnesses.values():
        harness.stats.reset()
    for provider in ("daily", "hubspot", "thoughtindustries"):
        gateways.behave(provider, rate_limits=True)
    burst: list[tuple[str, dict[str, Any]]] = [(MEETING, {"id": m}) for m in daily + ti]
    burst += [(AVAILABILITY, {"slug": s, "month": m}) for s in slugs for m in range(9)]
    answers = gateways.gather(
        [(i % 3, query, variables) for i, (query, variables) in enumerate(burst)]
    )
    assert [a.get("errors") for a in answers] == [None] * len(burst)
    # Each provider got more than its limit lets through at once (Daily 20 a second,
    # Thought Industries a burst of 20, HubSpot 100 per 10 s), once per request: the
    # simulators would have refused any excess with a 429, and none was refused.
    assert gateways.calls("daily", "GET /meetings/{meeting_id}") == len(daily) == 45
    assert gateways.calls("thoughtindustries") == len(ti) == 25
    assert gateways.calls("hubspot") > 100
    assert {p: gateways.refusals(p) for p in ("daily", "hubspot", "thoughtindustries")} == {
        "daily": 0,
        "hubspot": 0,
        "thoughtindustries": 0,
    }


#: Next month: these simulators run on the wall clock, and late on a month's last day the
#: current month has no slot left to book.
BOOKED_MONTH = 1


def test_a_slot_booked_through_one_process_is_gone_from_the_others_at_once(
    gateways: Cluster,
) -> None:
    month = {"slug": "menelson", "month": BOOKED_MONTH}
    slots = [gateways.data(i, AVAILABILITY, month) for i in range(3)]
    offered = slots[0]["schedulingLink"]["availability"]
    assert slots[1] == slots[2] == slots[0] and offered
    slot = offered[-1]
    booking = booking_input(slot)
    assert (
        gateways.data(0, BOOK, {"input": booking})["bookMeeting"]["booking"]["start"]
        == slot["start"]
    )
    for index in (1, 2):
        now = gateways.data(index, AVAILABILITY, month)
        assert slot not in now["schedulingLink"]["availability"]


def test_a_webhook_received_by_one_process_reaches_subscribers_on_the_others(
    gateways: Cluster,
) -> None:
    register_webhooks(gateways.sim_url, gateways.gateways[0].url)
    query = """subscription { meetingUpdated(filter: {room: "shared-room"}) {
                 changes meeting { title } } }"""
    subscribers = [SSESubscriber(gateways.gateways[i].graphql, query) for i in (1, 2)]
    with subscribers[0] as second, subscribers[1] as third:
        joined = gateways.http.post(
            gateways.provider_url("daily") + "/_sim/webhooks/join", json={"room": "shared-room"}
        )
        assert joined.status_code == 200, joined.text
        for subscriber in (second, third):
            update = subscriber.next(timeout=10)["data"]["meetingUpdated"]
            assert "STATUS" in update["changes"]


def test_a_persisted_query_sent_to_one_process_runs_by_hash_on_the_others(
    gateways: Cluster,
) -> None:
    query = "{ providers { provider configured } }"
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}
    assert "errors" not in gateways.post(0, query, extensions=persisted)
    for index in (1, 2):
        answer = gateways.http.post(
            gateways.gateways[index].graphql, json={"extensions": persisted}
        ).json()
        assert answer == {"data": {"providers": answer["data"]["providers"]}}
        assert len(answer["data"]["providers"]) == 4


def test_a_token_minted_by_one_process_is_reused_by_a_new_one(gateways: Cluster) -> None:
    # No current token in Redis (the refresh token HubSpot rotated in last stays).
    with contextlib.closing(gateways.redis.client()) as client:
        for key in client.scan_iter("meetingmesh:token:*"):
            client.hdel(key, "token", "renew_at")
    query = """{ member(provider: HEYPEERS, id: "sso-user-abc123") { name }
                 schedulingLink(slug: "menelson") { name } }"""
    with gateway_processes(
        2, gateways.config, gateways.log_dir, "fresh", gateways.redis.url
    ) as fresh:
        first = gateways.http.post(fresh[0].graphql, json={"query": query}).json()
        assert "errors" not in first, first
        second = gateways.http.post(fresh[1].graphql, json={"query": query}).json()
        assert second == first
    # One mint each, by the first new process (HubSpot's with the refresh token another
    # process rotated in: the configured one would be refused); the second adopted them.
    assert {p: gateways.calls(p, endpoint) for p, endpoint in MINTS.items()} == {
        "heypeers": 1,
        "hubspot": 1,
    }


def test_losing_redis_costs_no_request_and_sharing_comes_back_with_it(gateways: Cluster) -> None:
    meeting = ids(gateways, "daily", "/meetings?limit=1", lambda b: [b["data"][0]["id"]])[0]
    try:
        gateways.redis.kill()
        for round_ in range(12):
            answer = gateways.post(round_ % 3, FULL_PAGE)
            assert "errors" not in answer, answer["errors"]
        for index in range(3):
            assert gateways.metric(index, "meetingmesh_redis_up") == 0
            assert gateways.metric(index, "meetingmesh_redis_fallbacks_total") >= 1
            assert gateways.sharing(index) == {"FALLBACK"}
    finally:
        gateways.redis.start()
    gateways.wait_until(
        lambda: all(gateways.metric(i, "meetingmesh_redis_up") == 1 for i in range(3)),
        "every process uses Redis again",
    )
    assert all(gateways.sharing(i) == {"SHARED"} for i in range(3))
    before = gateways.calls("daily", "GET /meetings/{meeting_id}")
    for index in range(3):
        assert gateways.data(index, MEETING, {"id": meeting})["meeting"]["id"] == meeting
    assert gateways.calls("daily", "GET /meetings/{meeting_id}") == before + 1


def test_processes_answer_while_redis_is_away_from_the_start(gateways: Cluster) -> None:
    with gateway_processes(
        1, gateways.config, gateways.log_dir, "no-redis", "redis://127.0.0.1:9/0"
    ) as [alone]:
        answer = gateways.http.post(alone.graphql, json={"query": FULL_PAGE}).json()
        assert "errors" not in answer, answer
        status = gateways.http.post(
            alone.graphql, json={"query": "{ providers { configured sharing } }"}
        ).json()
        assert {p["sharing"] for p in status["data"]["providers"] if p["configured"]} == {
            "FALLBACK"
        }
