"""The root types: ``Query`` and ``Mutation``.

Each root field decodes its arguments into domain values, calls its resolver module
(``meetingmesh/resolvers``) and translates the answer; no field decides anything else.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from meetingmesh import domain
from meetingmesh.providers.base import LinkFilter
from meetingmesh.providers.http import Sharing
from meetingmesh.resolvers import meetings as meeting_resolvers
from meetingmesh.resolvers import members, scheduling
from meetingmesh.resolvers import nodes as node_resolvers
from meetingmesh.resolvers.nodes import NodeRecord
from meetingmesh.schema.enums import MeetingOrder, Provider
from meetingmesh.schema.inputs import BookMeetingInput, MeetingFilter, SchedulingLinkFilter
from meetingmesh.schema.selection import meetings_projection
from meetingmesh.schema.types import (
    Attendee,
    Booking,
    BookMeetingPayload,
    Course,
    Cursor,
    Info,
    Meeting,
    MeetingConnection,
    Member,
    Node,
    PageSize,
    ProviderStatus,
    SchedulingLink,
    SchedulingLinkConnection,
    SchedulingLinkEdge,
)


def to_node(record: NodeRecord | None) -> Node | None:
    """The GraphQL view of any node record."""
    if record is None:
        return None
    if isinstance(record, domain.Meeting):
        return Meeting.from_record(record)
    if isinstance(record, domain.Member):
        return Member.from_record(record)
    if isinstance(record, domain.Course):
        return Course.from_record(record)
    if isinstance(record, domain.Attendance):
        return Attendee.from_record(record)
    return SchedulingLink.from_record(record)


@strawberry.type(description="Meetings, members, courses and scheduling pages of every provider.")
class Query:
    @strawberry.field(description="Any object by its global id; null when it no longer exists.")
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="A global id this API handed out (the `id` of any `Node`); one "
                "it never issued is BAD_USER_INPUT."
            ),
        ],
    ) -> Node | None:
        return to_node(await node_resolvers.node(info.context, id))

    @strawberry.field(description="Several objects by global id, in order; a missing one is null.")
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="Global ids this API handed out, looked up concurrently; one "
                "that is malformed or fails is null, with an error at its index."
            ),
        ],
    ) -> list[Node | None]:
        found = await node_resolvers.nodes(info.context, list(info.path.as_list()), list(ids))
        return [to_node(r) for r in found]

    @strawberry.field(description="One meeting by global id.")
    async def meeting(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="A meeting's global id; the id of another type gives null."
            ),
        ],
    ) -> Meeting | None:
        found = await node_resolvers.meeting(info.context, id)
        return None if found is None else Meeting.from_record(found)

    @strawberry.field(
        description="Meetings of every configured provider merged into one list ordered by "
        "start time (then provider, then provider key). At most 100 per page; `first` "
        "defaults to 20. `after` pairs with `first`, `before` with `last`. A failing "
        "provider is left out with an error; null (with an error) only for bad arguments."
    )
    async def meetings(
        self,
        info: Info,
        first: PageSize = None,
        after: Cursor = None,
        last: PageSize = None,
        before: Cursor = None,
        filter: Annotated[
            MeetingFilter | None,
            strawberry.argument(
                description="Which meetings the list holds; every meeting of every "
                "configured provider when unset."
            ),
        ] = None,
        order_by: Annotated[
            MeetingOrder | None,
            strawberry.argument(description="The list's order; ascending start time by default."),
        ] = domain.MeetingOrder.START_TIME_ASC,
    ) -> MeetingConnection | None:
        fields, want_total = meetings_projection(info)
        page = await meeting_resolvers.list_meetings(
            info.context,
            list(info.path.as_list()),
            fields=fields,
            want_total=want_total,
            first=first,
            after=after,
            last=last,
            before=before,
            meeting_filter=None if filter is None else filter.to_resolver(),
            order=order_by or domain.MeetingOrder.START_TIME_ASC,
        )
        return MeetingConnection.from_page(page)

    @strawberry.field(
        description="A member by the provider's id (HeyPeers: the SSO idp_id); null when unknown."
    )
    async def member(
        self,
        info: Info,
        provider: Annotated[
            Provider, strawberry.argument(description="The provider the member belongs to.")
        ],
        id: Annotated[
            str,
            strawberry.argument(
                description="The provider's own id of the member (HeyPeers: the SSO idp_id); "
                "1 to 256 characters, no control characters."
            ),
        ],
    ) -> Member | None:
        found = await members.member(info.context, provider, id)
        return None if found is None else Member.from_record(found)

    @strawberry.field(
        description="HubSpot scheduling pages, in HubSpot's order; null (with an error) when "
        "HubSpot fails or an argument is wrong, so the rest of the answer stands."
    )
    async def scheduling_links(
        self,
        info: Info,
        first: PageSize = None,
        after: Cursor = None,
        filter: Annotated[
            SchedulingLinkFilter | None,
            strawberry.argument(
                description="Which links the list holds (HubSpot filters them); every link "
                "when unset."
            ),
        ] = None,
    ) -> SchedulingLinkConnection | None:
        link_filter = (
            LinkFilter()
            if filter is None
            else LinkFilter(
                name=filter.name, organizer_id=filter.organizer_user_id, type=filter.type
            )
        )
        page = await scheduling.list_links(info.context, first, after, link_filter)
        return SchedulingLinkConnection.of(page, SchedulingLinkEdge.from_edge)

    @strawberry.field(description="One HubSpot scheduling page by slug.")
    async def scheduling_link(
        self,
        info: Info,
        slug: Annotated[
            str,
            strawberry.argument(
                description='The page\'s slug: the end of its URL, a "/" included for team '
                "pages (`sales/round-robin`)."
            ),
        ],
    ) -> SchedulingLink | None:
        found = await scheduling.link(info.context, slug)
        return None if found is None else SchedulingLink.from_record(found)

    @strawberry.field(description="Every provider: configured, and answering?")
    def providers(self, info: Info) -> list[ProviderStatus]:
        statuses = []
        for provider in domain.Provider:
            adapter = info.context.adapter(provider)
            status = None if adapter is None else adapter.client.status()
            statuses.append(
                ProviderStatus(
                    provider=provider,
                    configured=status is not None,
                    healthy=status is not None and status.healthy,
                    last_error=None if status is None else status.problem,
                    sharing=Sharing.IN_PROCESS if status is None else status.sharing,
                )
            )
        return statuses


@strawberry.type(description="Changes: booking through HubSpot scheduling pages.")
class Mutation:
    @strawberry.mutation(
        description="Book a meeting on a HubSpot scheduling page. Never retried: the booking "
        "is made once, or an error says it was not made (refusals name the input field), or "
        "BOOKING_OUTCOME_UNKNOWN says HubSpot's answer was lost, with `extensions.slotTaken` "
        "(true: the slot is gone, most likely booked; false: not booked; null: cannot tell)."
    )
    async def book_meeting(
        self,
        info: Info,
        input: Annotated[
            BookMeetingInput,
            strawberry.argument(description="The page, the slot and who books it."),
        ],
    ) -> BookMeetingPayload:
        booking = await scheduling.book(
            info.context,
            list(info.path.as_list()),
            domain.BookingRequest(
                slug=input.slug,
                first_name=input.first_name,
                last_name=input.last_name,
                email=input.email,
                start_time=input.start_time,
                duration_minutes=input.duration_minutes,
                timezone=input.timezone,
                guest_emails=tuple(input.guest_emails or ()),
                form_answers=tuple(
                    domain.FormAnswer(name=a.name, value=a.value) for a in input.form_fields or ()
                ),
                consents=tuple(
                    domain.ConsentAnswer(
                        communication_type_id=c.communication_type_id, consented=c.consented
                    )
                    for c in input.legal_consent_responses or ()
                ),
            ),
        )
        return BookMeetingPayload(booking=Booking.from_record(booking))
