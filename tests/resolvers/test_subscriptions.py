"""Which events each subscription field lets through, and what each event starts with."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meetingmesh.domain import Attendee, DailyDetails, Meeting, MeetingStatus, Provider
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.events import (
    AttendeeChange,
    AttendeeChanged,
    AvailabilityChanged,
    AvailabilityReason,
    Event,
    InProcessBroker,
    Live,
    MeetingChange,
    MeetingUpdated,
)
from meetingmesh.providers.rows import RowProblem
from meetingmesh.resolvers import subscriptions
from meetingmesh.resolvers.context import RequestContext
from meetingmesh.resolvers.ids import encode_id
from meetingmesh.resolvers.meetings import MeetingFilter

NOW = datetime(2026, 5, 22, 12, tzinfo=UTC)


def _context(broker: InProcessBroker, limit: int = 100) -> RequestContext:
    return RequestContext(adapters={}, clock=lambda: NOW, live=Live(broker, limit, 15.0))


def _session(key: str, room: str, status: MeetingStatus, start: datetime = NOW) -> Meeting:
    ongoing = status is MeetingStatus.ONGOING
    return Meeting(
        Provider.DAILY,
        key=key,
        title=room,
        start_time=start,
        end_time=start,
        status=status,
        details=DailyDetails(room=room, ongoing=ongoing),
    )


def _updated(meeting: Meeting, previous: Meeting | None = None) -> MeetingUpdated:
    return MeetingUpdated(meeting, frozenset({MeetingChange.STATUS}), NOW, previous)


def _received(open_stream: Any, events: list[Event]) -> list[Any]:
    """The events a stream opened by ``open_stream(ctx)`` receives of ``events``."""

    async def scenario() -> list[Any]:
        broker = InProcessBroker()
        stream = open_stream(_context(broker))
        for event in events:
            await broker.publish(event)
        await stream.aclose()
        return [event async for event in stream]

    return asyncio.run(scenario())


def test_meeting_updates_keep_to_the_filters_room_and_time_window() -> None:
    inside = _updated(_session("a", "standup", MeetingStatus.ONGOING))
    other_room = _updated(_session("b", "sales-demo", MeetingStatus.ONGOING))
    too_late = _updated(
        _session("c", "standup", MeetingStatus.ONGOING, start=NOW + timedelta(days=2))
    )
    wanted = MeetingFilter(room="standup", starts_before=NOW + timedelta(days=1))
    received = _received(
        lambda ctx: subscriptions.meeting_updates(ctx, wanted), [inside, other_room, too_late]
    )
    assert received == [inside]


def test_an_ongoing_filter_sees_a_meeting_leave_it() -> None:
    started = _updated(_session("a", "r", MeetingStatus.ONGOING))
    ended = _updated(
        _session("a", "r", MeetingStatus.COMPLETED),
        previous=_session("a", "r", MeetingStatus.ONGOING),
    )
    unrelated_end = _updated(_session("b", "r", MeetingStatus.COMPLETED))
    received = _received(
        lambda ctx: subscriptions.meeting_updates(ctx, MeetingFilter(ongoing=True)),
        [started, ended, unrelated_end],
    )
    assert received == [started, ended]


def test_a_provider_filter_leaves_other_providers_out() -> None:
    daily = _updated(_session("a", "r", MeetingStatus.ONGOING))
    received = _received(
        lambda ctx: subscriptions.meeting_updates(
            ctx, MeetingFilter(providers=(Provider.HEYPEERS,))
        ),
        [daily],
    )
    assert received == []


def test_attendee_changes_are_those_of_one_meeting() -> None:
    def changed(key: str) -> AttendeeChanged:
        return AttendeeChanged(Provider.DAILY, key, Attendee(id="p"), AttendeeChange.LEFT, NOW)

    meeting_id = encode_id("Meeting", Provider.DAILY, "b")
    received = _received(
        lambda ctx: subscriptions.attendee_changes(ctx, meeting_id), [changed("a"), changed("b")]
    )
    assert received == [changed("b")]


def test_a_pages_subscribers_hear_of_its_bookings_and_of_events_naming_no_page() -> None:
    def changed(slug: str | None) -> AvailabilityChanged:
        reason = AvailabilityReason.BOOKED if slug else AvailabilityReason.PROVIDER_NOTIFIED
        return AvailabilityChanged(Provider.HUBSPOT, slug, reason, NOW)

    received = _received(
        lambda ctx: subscriptions.availability_changes(ctx, "menelson"),
        [changed("menelson"), changed("other"), changed(None)],
    )
    assert received == [changed("menelson"), changed(None)]


@pytest.mark.parametrize(
    ("open_stream", "field"),
    [
        (lambda ctx: subscriptions.attendee_changes(ctx, "not-an-id"), "meetingId"),
        (
            lambda ctx: subscriptions.attendee_changes(
                ctx, encode_id("Member", Provider.DAILY, "u")
            ),
            "meetingId",
        ),
        (lambda ctx: subscriptions.availability_changes(ctx, " "), "slug"),
        (
            lambda ctx: subscriptions.meeting_updates(
                ctx, MeetingFilter(starts_after=NOW, starts_before=NOW - timedelta(1))
            ),
            "filter",
        ),
    ],
)
def test_bad_arguments_are_refused_before_anything_opens(open_stream: Any, field: str) -> None:
    async def scenario() -> tuple[GatewayError, int]:
        broker = InProcessBroker()
        with pytest.raises(GatewayError) as refused:
            open_stream(_context(broker))
        return refused.value, broker.subscriptions

    error, opened = asyncio.run(scenario())
    assert error.code is ErrorCode.BAD_USER_INPUT
    assert error.field == field
    assert opened == 0


def test_past_the_process_bound_a_subscription_is_refused() -> None:
    async def scenario() -> GatewayError:
        broker = InProcessBroker()
        ctx = _context(broker, limit=1)
        first = subscriptions.availability_changes(ctx, "a")
        with pytest.raises(GatewayError) as refused:
            subscriptions.availability_changes(ctx, "b")
        await first.aclose()
        return refused.value

    assert asyncio.run(scenario()).code is ErrorCode.TOO_MANY_SUBSCRIPTIONS


def test_every_event_starts_with_fresh_loaders() -> None:
    async def scenario() -> bool:
        broker = InProcessBroker()
        ctx = _context(broker)
        stream = subscriptions.availability_changes(ctx, "a")
        before = ctx.loaders
        await broker.publish(
            AvailabilityChanged(Provider.HUBSPOT, "a", AvailabilityReason.BOOKED, NOW)
        )
        await anext(stream)
        await stream.aclose()
        return ctx.loaders is not before

    assert asyncio.run(scenario())


def test_every_event_reports_the_rows_it_could_not_read_again() -> None:
    """A row left out is reported once per request; each event is resolved as one."""
    problem = RowProblem.row(Provider.DAILY, "participant", "p-1", "is null")

    async def scenario() -> int:
        broker = InProcessBroker()
        ctx = _context(broker)
        stream = subscriptions.availability_changes(ctx, "a")
        for _ in range(2):
            await broker.publish(
                AvailabilityChanged(Provider.HUBSPOT, "a", AvailabilityReason.BOOKED, NOW)
            )
            await anext(stream)
            ctx.report_problem(problem, ["schedulingLinkAvailabilityChanged"])
        await stream.aclose()
        return len(ctx.reported)

    assert asyncio.run(scenario()) == 2
