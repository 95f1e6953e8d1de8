"""The ``Subscription`` root and its payload types: live events -> GraphQL.

Each field hands its arguments to ``meetingmesh.resolvers.subscriptions`` (which opens
the broker subscription at once, so refusals are errors of the operation) and
translates the domain events it yields. Nested fields resolve like a query's, with the
loaders renewed for every event. ``add_event_errors`` adds the provider failures an
event's fields reported (and survived) to that event's result.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types.execution import StreamExecutionResult

from meetingmesh import domain, events
from meetingmesh.resolvers import nodes as node_resolvers
from meetingmesh.resolvers import scheduling
from meetingmesh.resolvers import subscriptions as live
from meetingmesh.resolvers.context import RequestContext
from meetingmesh.resolvers.ids import encode_id
from meetingmesh.schema.enums import MeetingStatus, register_enum
from meetingmesh.schema.inputs import MeetingFilter
from meetingmesh.schema.types import Attendee, Info, Meeting, SchedulingLink

register_enum(
    events.MeetingChange,
    "MeetingChange",
    "What an update changed about a meeting.",
    {
        events.MeetingChange.STATUS: "Its status (scheduled, ongoing, completed, ...).",
        events.MeetingChange.TIMES: "Its start or end time, or its duration.",
        events.MeetingChange.ATTENDEE_COUNT: "How many attendees it has (someone joined or left).",
    },
)
register_enum(
    events.AttendeeChange,
    "AttendeeChangeKind",
    "How an attendee's presence changed.",
    {
        events.AttendeeChange.JOINED: "The attendee joined the meeting.",
        events.AttendeeChange.LEFT: "The attendee left the meeting.",
    },
)
register_enum(
    events.AvailabilityReason,
    "AvailabilityChangeReason",
    "Why a scheduling page's free slots may have changed.",
    {
        events.AvailabilityReason.BOOKED: "A booking was made through this gateway's "
        "`bookMeeting`.",
        events.AvailabilityReason.PROVIDER_NOTIFIED: "The provider said so in a webhook (HubSpot "
        "names no page: every page's subscribers are told).",
    },
)
MeetingChange = events.MeetingChange
AttendeeChangeKind = events.AttendeeChange
AvailabilityChangeReason = events.AvailabilityReason

S = TypeVar("S")
T = TypeVar("T")


class _Translated(Generic[S, T]):
    """A resolver's event stream seen through ``translate``; closing it closes the stream."""

    def __init__(self, stream: live.EventStream[S], translate: Callable[[S], T]) -> None:  # type: ignore[type-var]
        self._stream = stream
        self._translate = translate

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        return self._translate(await anext(self._stream))

    async def aclose(self) -> None:
        await self._stream.aclose()


@strawberry.type(description="A meeting's status, times or attendee count changed.")
class MeetingUpdate:
    meeting: Meeting = strawberry.field(description="The meeting as it is now.")
    changes: list[MeetingChange] = strawberry.field(description="What changed.")
    previous_status: MeetingStatus | None = strawberry.field(
        description="The status before the change, when the provider told it."
    )
    occurred_at: datetime = strawberry.field(description="When the change happened.")

    @classmethod
    def from_event(cls, event: events.MeetingUpdated) -> MeetingUpdate:
        """The GraphQL view of a meeting update."""
        return cls(
            meeting=Meeting.from_record(event.meeting),
            changes=sorted(event.changes, key=lambda c: list(events.MeetingChange).index(c)),
            previous_status=None if event.previous is None else event.previous.status,
            occurred_at=event.occurred_at,
        )


@strawberry.type(description="Someone joined or left a meeting.")
class AttendeeUpdate:
    meeting_id: strawberry.ID = strawberry.field(description="The meeting's global id.")
    attendee: Attendee = strawberry.field(description="Who joined or left.")
    change: AttendeeChangeKind = strawberry.field(description="Joined or left.")
    occurred_at: datetime = strawberry.field(description="When it happened.")
    event: strawberry.Private[events.AttendeeChanged]

    @classmethod
    def from_event(cls, event: events.AttendeeChanged) -> AttendeeUpdate:
        """The GraphQL view of an attendee's change."""
        return cls(
            meeting_id=strawberry.ID(encode_id("Meeting", event.provider, event.meeting_key)),
            attendee=Attendee.from_record(
                domain.Attendance(event.provider, event.meeting_key, event.attendee)
            ),
            change=event.change,
            occurred_at=event.occurred_at,
            event=event,
        )

    @strawberry.field(description="The meeting, read from its provider now.")
    async def meeting(self, info: Info) -> Meeting | None:
        found = await node_resolvers.meeting(info.context, self.meeting_id)
        return None if found is None else Meeting.from_record(found)


@strawberry.type(description="A scheduling page's free slots may have changed.")
class SchedulingLinkAvailabilityUpdate:
    slug: str = strawberry.field(description="The scheduling page.")
    reason: AvailabilityChangeReason = strawberry.field(
        description="A booking through this gateway, or the provider's word."
    )
    occurred_at: datetime = strawberry.field(description="When it happened.")

    @strawberry.field(
        description="The page, read from the provider now (its `availability` is fresh)."
    )
    async def link(self, info: Info) -> SchedulingLink | None:
        found = await scheduling.link(info.context, self.slug)
        return None if found is None else SchedulingLink.from_record(found)


@strawberry.type(
    description="Live updates, over graphql-transport-ws (WebSocket), Server-Sent Events "
    "(graphql-sse, distinct connections) or multipart HTTP."
)
class Subscription:
    @strawberry.subscription(
        description="Status, times and attendee-count changes of meetings of any provider "
        "(today: Daily, from its webhooks). The filter is checked against the meeting before "
        "and after the change, so an update that takes a meeting out of the filter (a "
        "session ending, for `ongoing: true`) is delivered too."
    )
    def meeting_updated(
        self,
        info: Info,
        filter: Annotated[
            MeetingFilter | None,
            strawberry.argument(
                description="Only updates of meetings this filter matches (every provider's "
                "meetings when absent); the same filter as `meetings`."
            ),
        ] = None,
    ) -> AsyncGenerator[MeetingUpdate, None]:
        stream = live.meeting_updates(
            info.context, None if filter is None else filter.to_resolver()
        )
        return _Translated(stream, MeetingUpdate.from_event)  # type: ignore[return-value]

    @strawberry.subscription(description="People joining and leaving one meeting (Daily).")
    def attendee_changed(
        self,
        info: Info,
        meeting_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The global id of the meeting to watch."),
        ],
    ) -> AsyncGenerator[AttendeeUpdate, None]:
        stream = live.attendee_changes(info.context, meeting_id)
        return _Translated(stream, AttendeeUpdate.from_event)  # type: ignore[return-value]

    @strawberry.subscription(
        description="A HubSpot scheduling page's free slots may have changed: after a "
        "booking through this gateway, and whenever HubSpot's webhooks tell of a meeting."
    )
    def scheduling_link_availability_changed(
        self,
        info: Info,
        slug: Annotated[
            str,
            strawberry.argument(
                description="The scheduling page's slug, as in `schedulingLink(slug:)`."
            ),
        ],
    ) -> AsyncGenerator[SchedulingLinkAvailabilityUpdate, None]:
        stream = live.availability_changes(info.context, slug)

        def update(event: events.AvailabilityChanged) -> SchedulingLinkAvailabilityUpdate:
            # An event naming no page (HubSpot's) is about this subscriber's page too.
            return SchedulingLinkAvailabilityUpdate(
                slug=slug, reason=event.reason, occurred_at=event.occurred_at
            )

        return _Translated(stream, update)  # type: ignore[return-value]


def add_event_errors(context: object, result: StreamExecutionResult) -> None:
    """Move the context's reported failures under this event's root field to its errors.

    Each event's result gets the provider failures its fields reported (the schema's
    ``Outcomes`` extension calls this for every streamed result).
    """
    data = getattr(result, "data", None)
    if isinstance(context, RequestContext) and context.reported and isinstance(data, dict):
        # Take only this subscription's own failures (their paths start at its root
        # field), and the row problems reported without a path while this event was
        # resolved (each WebSocket operation has a context of its own: transports).
        mine = [(e, p) for e, p in context.reported if p is None or (p[:1] and p[0] in data)]
        if mine:
            context.reported = [r for r in context.reported if r not in mine]
            errors = [
                GraphQLError(error.message, path=path, extensions=error.extensions)
                for error, path in mine
            ]
            result.errors = [*(getattr(result, "errors", None) or []), *errors]  # type: ignore[union-attr]
