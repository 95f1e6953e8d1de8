"""Subscriptions: the live events a client asked for, each resolved like a fresh request.

Each subscription field opens one broker subscription (``meetingmesh.events``) when the
operation starts, so a refusal is an error of the operation itself: a bad argument is
``BAD_USER_INPUT``, one subscription past ``server.max_subscriptions`` in this process
``TOO_MANY_SUBSCRIPTIONS``. The filter runs at the broker, so other clients' events cost
a subscription nothing. The subscription is closed however the stream ends (the client
completes or disconnects, the server stops); even one that was never iterated is
released once it is garbage (the in-process broker holds subscriptions weakly).

Before each event is handed on, the request context's loaders are renewed, so nested
fields (a Daily session's attendees, a link's availability) are read anew and not from
what an earlier event loaded, and the event's fields get a deadline and an upstream
call budget of their own (``server.deadline``, ``server.max_upstream_calls``): a
subscription lives longer than any one request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic

from meetingmesh.domain import DailyDetails, Meeting, Provider, start_of
from meetingmesh.errors import ErrorCode, GatewayError, bad_input
from meetingmesh.events import (
    AttendeeChanged,
    AvailabilityChanged,
    AvailabilityReason,
    E,
    Live,
    MeetingUpdated,
    Subscription,
)
from meetingmesh.providers import budget
from meetingmesh.providers.base import is_ongoing
from meetingmesh.providers.deadline import restart
from meetingmesh.resolvers.context import RequestContext
from meetingmesh.resolvers.ids import decode_id
from meetingmesh.resolvers.meetings import MeetingFilter, course_key


class EventStream(Generic[E]):
    """The events of one subscription, each with fresh loaders, a deadline and a call budget."""

    def __init__(self, ctx: RequestContext, live: Live, subscription: Subscription[E]) -> None:
        self._ctx = ctx
        self._live = live
        self._subscription = subscription
        self._events = aiter(subscription)

    def __aiter__(self) -> EventStream[E]:
        return self

    async def __anext__(self) -> E:
        event = await anext(self._events)
        self._ctx.renew()
        restart(self._live.event_deadline)
        if self._live.event_calls is not None:
            budget.restart(self._live.event_calls)
        return event

    async def aclose(self) -> None:
        """Close the broker subscription (idempotent)."""
        await self._subscription.aclose()


def _open(ctx: RequestContext, kind: type[E], accept: Callable[[E], bool]) -> EventStream[E]:
    live = ctx.live
    if live is None:
        raise GatewayError(ErrorCode.BAD_REQUEST, "this gateway serves no subscriptions")
    if live.broker.subscriptions >= live.max_subscriptions:
        raise GatewayError(
            ErrorCode.TOO_MANY_SUBSCRIPTIONS,
            f"this gateway serves at most {live.max_subscriptions} subscriptions at once: "
            "try again later",
        )
    return EventStream(ctx, live, live.broker.subscribe(kind, accept))


def meeting_updates(
    ctx: RequestContext, meeting_filter: MeetingFilter | None
) -> EventStream[MeetingUpdated]:
    """``meetingUpdated``: updates of meetings that pass ``meeting_filter`` before or after.

    An update that takes a meeting into or out of the filter (a session that ends, for
    ``ongoing: true``) is delivered: the filter is checked against both states.
    """
    wanted = meeting_filter or MeetingFilter()
    if (
        wanted.starts_after is not None
        and wanted.starts_before is not None
        and wanted.starts_after > wanted.starts_before
    ):
        raise bad_input("filter.startsAfter must not be later than startsBefore", field="filter")
    course = None if wanted.course_id is None else course_key(wanted.course_id)
    providers = None if wanted.providers is None else frozenset(wanted.providers)
    clock = ctx.clock

    def matches(meeting: Meeting, now: datetime) -> bool:
        if providers is not None and meeting.provider not in providers:
            return False
        start = start_of(meeting)
        if wanted.starts_after is not None and start < wanted.starts_after:
            return False
        if wanted.starts_before is not None and start >= wanted.starts_before:
            return False
        if wanted.room is not None and not (
            isinstance(meeting.details, DailyDetails) and meeting.details.room == wanted.room
        ):
            return False
        if course is not None and course not in (
            meeting.course_id,
            None if meeting.course is None else meeting.course.provider_id,
        ):
            return False
        return wanted.ongoing is None or is_ongoing(meeting, now) == wanted.ongoing

    def accept(event: MeetingUpdated) -> bool:
        now = clock()
        return matches(event.meeting, now) or (
            event.previous is not None and matches(event.previous, now)
        )

    return _open(ctx, MeetingUpdated, accept)


def attendee_changes(ctx: RequestContext, meeting_id: str) -> EventStream[AttendeeChanged]:
    """``attendeeChanged``: people joining and leaving one meeting (a global ``Meeting`` id)."""
    decoded = decode_id(meeting_id, field="meetingId")
    if decoded.type_name != "Meeting":
        raise bad_input("meetingId must be a Meeting id", field="meetingId")
    provider, key = decoded.provider, decoded.key

    def accept(event: AttendeeChanged) -> bool:
        return event.provider is provider and event.meeting_key == key

    return _open(ctx, AttendeeChanged, accept)


def availability_changes(ctx: RequestContext, slug: str) -> EventStream[AvailabilityChanged]:
    """``schedulingLinkAvailabilityChanged``: when a page's free slots may have changed.

    An event that names no page (HubSpot's meeting webhooks do not) reaches every page's
    subscribers.
    """
    if not slug.strip():
        raise bad_input("slug must not be empty", field="slug")

    def accept(event: AvailabilityChanged) -> bool:
        return event.slug is None or event.slug == slug

    return _open(ctx, AvailabilityChanged, accept)


async def publish_booking(ctx: RequestContext, provider: Provider, slug: str) -> None:
    """Tell the page's subscribers that a booking through this gateway took a slot."""
    if ctx.live is not None:
        await ctx.live.broker.publish(
            AvailabilityChanged(provider, slug, AvailabilityReason.BOOKED, ctx.clock())
        )
