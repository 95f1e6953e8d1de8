"""The in-process broker: what a subscription receives, and what it costs once closed."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, datetime

from meetingmesh.domain import Attendee, Meeting, Provider
from meetingmesh.events import (
    AttendeeChange,
    AttendeeChanged,
    AvailabilityChanged,
    AvailabilityReason,
    InProcessBroker,
    MeetingChange,
    MeetingUpdated,
)

NOW = datetime(2026, 5, 22, 12, tzinfo=UTC)


def _update(key: str) -> MeetingUpdated:
    meeting = Meeting(Provider.DAILY, key=key, title="standup")
    return MeetingUpdated(meeting, frozenset({MeetingChange.STATUS}), NOW)


def _joined(key: str) -> AttendeeChanged:
    return AttendeeChanged(Provider.DAILY, key, Attendee(id="p1"), AttendeeChange.JOINED, NOW)


async def _take(subscription: object, count: int) -> list[object]:
    taken = []
    async for event in subscription:  # type: ignore[attr-defined]
        taken.append(event)
        if len(taken) == count:
            break
    return taken


def test_a_subscription_receives_the_events_of_its_kind_in_order() -> None:
    async def scenario() -> list[object]:
        broker = InProcessBroker()
        subscription = broker.subscribe(MeetingUpdated)
        await broker.publish(_update("a"))
        await broker.publish(_joined("a"))
        await broker.publish(_update("b"))
        return await _take(subscription, 2)

    assert asyncio.run(scenario()) == [_update("a"), _update("b")]


def test_the_filter_runs_at_the_broker() -> None:
    async def scenario() -> list[object]:
        broker = InProcessBroker()
        subscription = broker.subscribe(AttendeeChanged, lambda e: e.meeting_key == "b")
        for key in ("a", "b", "c", "b"):
            await broker.publish(_joined(key))
        return await _take(subscription, 2)

    assert asyncio.run(scenario()) == [_joined("b"), _joined("b")]


def test_a_slow_subscriber_loses_its_oldest_events_not_the_publisher_its_time() -> None:
    async def scenario() -> tuple[list[object], int]:
        broker = InProcessBroker(queue_size=2)
        subscription = broker.subscribe(MeetingUpdated)
        for key in ("a", "b", "c"):
            await broker.publish(_update(key))
        return await _take(subscription, 2), broker.dropped

    events, dropped = asyncio.run(scenario())
    assert events == [_update("b"), _update("c")]
    assert dropped == 1


def test_closing_a_subscription_ends_its_iteration_and_forgets_it() -> None:
    async def scenario() -> tuple[int, list[object], int]:
        broker = InProcessBroker()
        subscription = broker.subscribe(AvailabilityChanged)
        opened = broker.subscriptions
        waiting = asyncio.create_task(_take(subscription, 5))
        await asyncio.sleep(0)
        await subscription.aclose()
        await subscription.aclose()  # idempotent
        received = await asyncio.wait_for(waiting, 1)
        changed = AvailabilityChanged(Provider.HUBSPOT, "x", AvailabilityReason.BOOKED, NOW)
        await broker.publish(changed)
        return opened, received, broker.subscriptions

    assert asyncio.run(scenario()) == (1, [], 0)


def test_a_subscription_nobody_holds_any_more_is_forgotten() -> None:
    async def scenario() -> tuple[int, int]:
        broker = InProcessBroker()
        subscription = broker.subscribe(MeetingUpdated)  # never iterated, never closed
        opened = broker.subscriptions
        del subscription
        gc.collect()
        await broker.publish(_update("a"))
        return opened, broker.subscriptions

    assert asyncio.run(scenario()) == (1, 0)
