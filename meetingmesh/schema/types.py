"""GraphQL object types: each built from a domain record by its ``from_record``.

Leaf fields are plain attributes filled at construction (no resolver per field);
only fields that may need an upstream call have resolvers, and those hand the work
to a resolver module and translate its answer. Lists are ``Connection`` subclasses
(``meetingmesh/schema/connection.py``). What a record embeds (a Thought Industries
course, attendees) is translated synchronously: an async resolver would cost a task
per meeting even with nothing to wait for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from meetingmesh import domain
from meetingmesh.resolvers import members, pagination, scheduling
from meetingmesh.resolvers.context import RequestContext
from meetingmesh.resolvers.ids import attendance_id, encode_id
from meetingmesh.resolvers.meetings import MeetingsPage, course_meetings
from meetingmesh.resolvers.pagination import OffsetWindow, offset_window, slice_page
from meetingmesh.schema.connection import Connection, Edge
from meetingmesh.schema.enums import (
    MeetingStatus,
    Provider,
    SchedulingLinkType,
    StateSharing,
    WaitlistStatus,
)
from meetingmesh.schema.selection import meetings_projection

Info = strawberry.Info[RequestContext, None]

#: Page-size and cursor arguments, with their bounds in the schema's own words.
PageSize = Annotated[
    int | None,
    strawberry.argument(
        description="Page size: 0 to 100 (the `max_page_size` setting), 20 when unset; "
        "outside that, BAD_USER_INPUT before any provider is asked."
    ),
]
Cursor = Annotated[
    str | None,
    strawberry.argument(
        description="A cursor this list handed out; one that does not decode or is out of "
        "range (forged) is BAD_USER_INPUT before any provider is asked."
    ),
]


def _path(info: Info) -> list[str | int]:
    return list(info.path.as_list())


@strawberry.interface(description="An object with a global id that `node(id)` can fetch again.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global id, stable across requests and gateway processes."
    )


@strawberry.type(description="A person known to one provider.")
class Member(Node):
    provider: Provider = strawberry.field(description="The provider this member belongs to.")
    provider_id: str | None = strawberry.field(
        description="The provider's id: HeyPeers SSO idp_id or user id, Daily user_id, ..."
    )
    name: str | None = strawberry.field(description="Display name, when the provider gives one.")
    email: str | None = strawberry.field(description="Email address, when the provider gives one.")
    avatar_url: str | None = strawberry.field(description="Avatar image URL.")
    record: strawberry.Private[domain.Member]

    @classmethod
    def from_record(cls, record: domain.Member) -> Member:
        """The GraphQL view of a member."""
        return cls(
            id=strawberry.ID(encode_id("Member", record.provider, record.key)),
            provider=record.provider,
            provider_id=record.provider_id,
            name=record.name,
            email=record.email,
            avatar_url=record.avatar_url,
            record=record,
        )

    @strawberry.field(
        description="The member's upcoming meetings with their own registration state "
        "(HeyPeers members; empty elsewhere). Null (with an error) when the provider fails "
        "or an argument is wrong; the member stays."
    )
    async def upcoming_meetings(
        self, info: Info, first: PageSize = None, after: Cursor = None
    ) -> MemberMeetingConnection | None:
        page = await members.upcoming_meetings(info.context, self.record, first, after)
        return MemberMeetingConnection.of(page, MemberMeetingEdge.from_edge)


@strawberry.type(description="A Thought Industries course.")
class Course(Node):
    # Fields named like another Node type's have its type (title String!, providerId and
    # slug String): a client may select both in one `node { ... on X }` selection.
    provider_id: str | None = strawberry.field(
        description="The course's Thought Industries id (always set; nullable like every "
        "Node's `providerId`)."
    )
    title: str = strawberry.field(
        description="Course title; empty when Thought Industries sends none (like `Meeting.title`)."
    )
    slug: str | None = strawberry.field(description="URL slug of the course.")
    publication_status: str | None = strawberry.field(
        description="Thought Industries' publication status (draft, published, ...). Was "
        "`status`, removed because `Meeting.status` is a `MeetingStatus` of the same name."
    )
    start_date: datetime | None = strawberry.field(description="Course start.")
    end_date: datetime | None = strawberry.field(description="Course end.")
    record: strawberry.Private[domain.Course]

    @classmethod
    def from_record(cls, record: domain.Course) -> Course:
        """The GraphQL view of a course."""
        return cls(
            id=strawberry.ID(encode_id("Course", record.provider, record.provider_id)),
            provider_id=record.provider_id,
            title=record.title or "",
            slug=record.slug,
            publication_status=record.status,
            start_date=record.start_date,
            end_date=record.end_date,
            record=record,
        )

    @strawberry.field(
        description="The course's meetings, in start-time order. Null (with an error) when "
        "an argument is wrong; the course stays."
    )
    async def meetings(
        self, info: Info, first: PageSize = None, after: Cursor = None
    ) -> MeetingConnection | None:
        fields, want_total = meetings_projection(info)
        page = await course_meetings(
            info.context,
            _path(info),
            self.record,
            first=first,
            after=after,
            fields=fields,
            want_total=want_total,
        )
        return MeetingConnection.from_page(page)


@strawberry.type(
    description="Someone registered for, or present in, one meeting: an attendance. The "
    "same person in two meetings is two attendees with ids of their own (their join "
    "times and durations differ); `member` is the person."
)
class Attendee(Node):
    provider_id: str | None = strawberry.field(
        description="The provider's own id of this attendee: Daily's participant_id (one "
        "per join), Thought Industries' user id (the person, the same in every meeting). "
        "Until `id` became an attendance's own, `id` held this value."
    )
    name: str | None = strawberry.field(description="Display name.")
    email: str | None = strawberry.field(description="Email address.")
    member: Member | None = strawberry.field(
        description="The person behind the attendee, if known: the same member in every "
        "meeting they attend."
    )
    joined_at: datetime | None = strawberry.field(
        description="When the attendee joined this meeting (Daily)."
    )
    duration_seconds: int | None = strawberry.field(
        description="Time the attendee spent in this meeting, in seconds (Daily)."
    )

    @classmethod
    def from_record(cls, record: domain.Attendance) -> Attendee:
        """The GraphQL view of an attendance."""
        attendee = record.attendee
        return cls(
            id=strawberry.ID(attendance_id(record)),
            provider_id=attendee.id,
            name=attendee.name,
            email=attendee.email,
            member=None if attendee.member is None else Member.from_record(attendee.member),
            joined_at=attendee.joined_at,
            duration_seconds=attendee.duration_seconds,
        )


@strawberry.type(description="An attendee and its cursor.")
class AttendeeEdge(Edge[Attendee]):
    node: Attendee = strawberry.field(description="The attendee.")


@strawberry.type(description="A page of a meeting's attendees.")
class AttendeeConnection(Connection[AttendeeEdge]):
    edges: list[AttendeeEdge] = strawberry.field(description="The attendees of this page.")
    total_count: int | None = strawberry.field(description="Attendees in all.")

    @classmethod
    def from_attendees(
        cls, meeting: domain.Meeting, everyone: tuple[domain.Attendee, ...], window: OffsetWindow
    ) -> AttendeeConnection:
        """The page ``window`` cuts from ``meeting``'s attendees."""

        def edge(item: pagination.Edge[domain.Attendee]) -> AttendeeEdge:
            attendance = domain.Attendance(meeting.provider, meeting.key, item.node)
            return AttendeeEdge(cursor=item.cursor, node=Attendee.from_record(attendance))

        return cls.of(slice_page(everyone, window), edge)


@strawberry.type(description="A physical location of a Thought Industries meeting.")
class Location:
    id: str | None = strawberry.field(description="Location id.")
    name: str | None = strawberry.field(description="Location name.")
    room: str | None = strawberry.field(description="Room.")
    address1: str | None = strawberry.field(description="Address line 1.")
    address2: str | None = strawberry.field(description="Address line 2.")
    city: str | None = strawberry.field(description="City.")
    state: str | None = strawberry.field(description="State or region.")
    zip_code: str | None = strawberry.field(description="Postal code.")
    country: str | None = strawberry.field(description="Country.")
    time_zone: str | None = strawberry.field(description="IANA time zone of the location.")


@strawberry.type(description="What only HeyPeers knows about a meeting.")
class HeyPeersMeetingDetails:
    meeting_type: str | None = strawberry.field(description="Group, OneToOne, ...")
    price: float | None = strawberry.field(description="Price; 0 when free.")
    special_focus: str | None = strawberry.field(description="Special focus of the group.")
    host: str | None = strawberry.field(description="Host as HeyPeers stores it.")
    platform: str | None = strawberry.field(
        description="Where the meeting is held: heypeers or zoom (HeyPeers' `location`). Was "
        "`location`, removed because `ThoughtIndustriesMeetingDetails.location` is a "
        "`Location` of the same name."
    )
    privacy: bool | None = strawberry.field(description="Private meeting.")
    eap: bool | None = strawberry.field(description="Employee Assistance Program meeting.")
    allow_meeting_donation: bool | None = strawberry.field(description="Donations allowed.")
    invitation_only: bool | None = strawberry.field(description="Invitation only.")
    wait_list: bool | None = strawberry.field(description="Has a wait list.")
    duration_text: str | None = strawberry.field(description='Human duration ("1 hour").')
    raw_status: str | None = strawberry.field(description="HeyPeers' own status word.")


@strawberry.type(description="What only Thought Industries knows about a meeting.")
class ThoughtIndustriesMeetingDetails:
    course_id: str | None = strawberry.field(description="The course's Thought Industries id.")
    location: Location | None = strawberry.field(description="Physical location, if any.")
    instructors: list[str] = strawberry.field(description="Instructor names.")
    attendee_info: str | None = strawberry.field(description="Notes shown to attendees.")


@strawberry.type(description="What only Daily knows about a meeting session.")
class DailyMeetingDetails:
    room: str = strawberry.field(description="Daily room name.")
    ongoing: bool = strawberry.field(description="Participants are in the room now.")
    max_participants: int | None = strawberry.field(description="Most participants at once.")
    duration_seconds: int | None = strawberry.field(description="Session length in seconds.")


MeetingDetails = Annotated[
    HeyPeersMeetingDetails | ThoughtIndustriesMeetingDetails | DailyMeetingDetails,
    strawberry.union("MeetingDetails", description="Provider-specific details of a meeting."),
]


def _details(
    record: domain.Details | None,
) -> HeyPeersMeetingDetails | ThoughtIndustriesMeetingDetails | DailyMeetingDetails | None:
    if isinstance(record, domain.HeyPeersDetails):
        return HeyPeersMeetingDetails(
            meeting_type=record.meeting_type,
            price=record.price,
            special_focus=record.special_focus,
            host=record.host,
            platform=record.location,
            privacy=record.privacy,
            eap=record.eap,
            allow_meeting_donation=record.allow_meeting_donation,
            invitation_only=record.invitation_only,
            wait_list=record.wait_list,
            duration_text=record.duration_text,
            raw_status=record.raw_status,
        )
    if isinstance(record, domain.ThoughtIndustriesDetails):
        loc = record.location
        return ThoughtIndustriesMeetingDetails(
            course_id=record.course_id,
            location=None
            if loc is None
            else Location(
                id=loc.id,
                name=loc.name,
                room=loc.room,
                address1=loc.address1,
                address2=loc.address2,
                city=loc.city,
                state=loc.state,
                zip_code=loc.zip_code,
                country=loc.country,
                time_zone=loc.time_zone,
            ),
            instructors=list(record.instructors),
            attendee_info=record.attendee_info,
        )
    if isinstance(record, domain.DailyDetails):
        return DailyMeetingDetails(
            room=record.room,
            ongoing=record.ongoing,
            max_participants=record.max_participants,
            duration_seconds=record.duration_seconds,
        )
    return None


@strawberry.type(description="A meeting from any provider.")
class Meeting(Node):
    provider: Provider = strawberry.field(description="The provider the meeting lives on.")
    provider_id: str | None = strawberry.field(
        description="The provider's own id; null for HeyPeers export rows, which carry none."
    )
    title: str = strawberry.field(description="Title (Daily sessions: the room name).")
    description: str | None = strawberry.field(description="Longer description.")
    topic: str | None = strawberry.field(description="Topic or subject.")
    start_time: datetime | None = strawberry.field(description="Start, UTC.")
    end_time: datetime | None = strawberry.field(description="End, UTC.")
    duration_minutes: int | None = strawberry.field(description="Length in whole minutes.")
    time_zone: str | None = strawberry.field(description="The meeting's own time zone, if any.")
    status: MeetingStatus | None = strawberry.field(description="Where the meeting is in its life.")
    join_url: str | None = strawberry.field(description="Where attendees join.")
    capacity: int | None = strawberry.field(description="Most attendees allowed.")
    registered_count: int | None = strawberry.field(description="Registered attendees.")
    hosts: list[Member] = strawberry.field(
        description="Group leaders (HeyPeers), instructors (Thought Industries)."
    )
    details: MeetingDetails | None = strawberry.field(
        description="What only this meeting's provider knows."
    )
    record: strawberry.Private[domain.Meeting]

    @classmethod
    def from_record(cls, record: domain.Meeting) -> Meeting:
        """The GraphQL view of a meeting."""
        return cls(
            id=strawberry.ID(encode_id("Meeting", record.provider, record.key)),
            provider=record.provider,
            provider_id=record.provider_id,
            title=record.title,
            description=record.description,
            topic=record.topic,
            start_time=record.start_time,
            end_time=record.end_time,
            duration_minutes=record.duration_minutes,
            time_zone=record.time_zone,
            status=record.status,
            join_url=record.join_url,
            capacity=record.capacity,
            registered_count=record.registered_count,
            hosts=[Member.from_record(h) for h in record.hosts],
            details=_details(record.details),
            record=record,
        )

    @strawberry.field(description="The course this meeting belongs to (Thought Industries).")
    def course(self, info: Info) -> Course | None:
        # Synchronous when the payload embedded the course (the common case): an async
        # resolver costs a task per meeting even when it has nothing to wait for.
        if self.record.course is not None:
            return Course.from_record(self.record.course)
        if self.record.course_id is None:
            return None
        return self._load_course(info)  # type: ignore[return-value]  # awaited by GraphQL

    async def _load_course(self, info: Info) -> Course | None:
        assert self.record.course_id is not None
        found = await info.context.loaders.course(self.record.provider, self.record.course_id)
        return None if found is None else Course.from_record(found)

    @strawberry.field(
        description="Attendees: Daily participants, Thought Industries attendees. Null (with "
        "an error) when the provider fails or an argument is wrong; the meeting stays."
    )
    def attendees(
        self, info: Info, first: PageSize = None, after: Cursor = None
    ) -> AttendeeConnection | None:
        window = offset_window(first, after, info.context.max_page_size)
        if self.record.attendees is not None:
            return AttendeeConnection.from_attendees(self.record, self.record.attendees, window)
        return self._load_attendees(info, window)  # type: ignore[return-value]  # awaited

    async def _load_attendees(self, info: Info, window: OffsetWindow) -> AttendeeConnection:
        everyone = await info.context.loaders.attendees_of(self.record)
        return AttendeeConnection.from_attendees(self.record, everyone, window)


@strawberry.type(description="A meeting and its cursor in a merged list.")
class MeetingEdge(Edge[Meeting]):
    cursor: str = strawberry.field(description="Opaque keyset cursor of this edge.")
    node: Meeting = strawberry.field(description="The meeting.")

    @classmethod
    def from_edge(cls, edge: pagination.Edge[domain.Meeting]) -> MeetingEdge:
        """The GraphQL view of a meeting's edge."""
        return cls(cursor=edge.cursor, node=Meeting.from_record(edge.node))


@strawberry.type(description="One value of a facet and how many meetings have it.")
class AggregationBucket:
    value: str = strawberry.field(description="The value (provider facet: a Provider name).")
    label: str | None = strawberry.field(description="Human label of the value.")
    count: int = strawberry.field(description="Meetings with this value.")


@strawberry.type(
    description="A facet over a meetings list: `provider` always, plus Thought Industries' own."
)
class Aggregation:
    key: str = strawberry.field(description="Machine name of the facet.")
    label: str | None = strawberry.field(description="Human name of the facet.")
    buckets: list[AggregationBucket] = strawberry.field(description="Values and their counts.")


@strawberry.type(description="A page of meetings merged across providers.")
class MeetingConnection(Connection[MeetingEdge]):
    edges: list[MeetingEdge] = strawberry.field(description="The meetings of this page.")
    total_count: int | None = strawberry.field(
        description="Meetings matching the filter, summed over the providers that answered."
    )
    facets: strawberry.Private[tuple[domain.Aggregation, ...]]

    @strawberry.field(description="Facets of the whole list.")
    def aggregations(self) -> list[Aggregation]:
        # Built only when selected: a facet of a large catalogue has a bucket per course.
        return [
            Aggregation(
                key=a.key,
                label=a.label,
                buckets=[
                    AggregationBucket(value=b.value, label=b.label, count=b.count)
                    for b in a.buckets
                ],
            )
            for a in self.facets
        ]

    @classmethod
    def from_page(cls, page: MeetingsPage) -> MeetingConnection:
        """The GraphQL view of a merged page."""
        return cls.of(page, MeetingEdge.from_edge, facets=page.aggregations)


@strawberry.type(description="A meeting on a member's schedule, with the member's own state.")
class MemberMeetingEdge(Edge[Meeting]):
    node: Meeting = strawberry.field(description="The meeting.")
    registered: bool = strawberry.field(description="The member holds a confirmed seat.")
    registered_at: datetime | None = strawberry.field(description="When the member registered.")
    waitlist_status: WaitlistStatus | None = strawberry.field(
        description="The member's wait-list state; null when not on the wait list."
    )

    @classmethod
    def from_edge(cls, edge: pagination.Edge[domain.MemberMeeting]) -> MemberMeetingEdge:
        """The GraphQL view of a member's meeting."""
        record = edge.node
        return cls(
            cursor=edge.cursor,
            node=Meeting.from_record(record.meeting),
            registered=record.registered,
            registered_at=record.registered_at,
            waitlist_status=record.waitlist_status,
        )


@strawberry.type(description="A page of a member's upcoming meetings.")
class MemberMeetingConnection(Connection[MemberMeetingEdge]):
    edges: list[MemberMeetingEdge] = strawberry.field(description="This page's meetings.")
    total_count: int | None = strawberry.field(description="Upcoming meetings in all.")


@strawberry.type(description="One choice of a choice question.")
class BookingFormChoice:
    value: str = strawberry.field(description="What a booking answers with (`formFields.value`).")
    label: str | None = strawberry.field(description="What the booker sees.")


@strawberry.type(description="A question a booker answers on a scheduling page.")
class BookingFormField:
    name: str = strawberry.field(
        description="Field name: the `name` of its answer in `BookMeetingInput.formFields`."
    )
    label: str | None = strawberry.field(description="Label shown to the booker.")
    field_type: str | None = strawberry.field(
        description="Input type (HubSpot's `fieldType`: text, select, radio, date, ...)."
    )
    type: str | None = strawberry.field(
        description="Type of value (HubSpot's `type`: string, enumeration, date, ...)."
    )
    required: bool = strawberry.field(description="Must be answered.")
    custom: bool = strawberry.field(
        description="Answered in `BookMeetingInput.formFields`; false for firstName, lastName "
        "and email, which BookMeetingInput asks for itself."
    )
    options: list[str] = strawberry.field(
        description="Values a choice question accepts (each choice's `value`)."
    )
    choices: list[BookingFormChoice] = strawberry.field(
        description="A choice question's choices, with the labels shown."
    )

    @classmethod
    def from_record(cls, record: domain.FormField) -> BookingFormField:
        """The GraphQL view of a booking question."""
        return cls(
            name=record.name,
            label=record.label,
            field_type=record.field_type,
            type=record.value_type,
            required=record.required,
            custom=record.custom,
            options=[o.value for o in record.options],
            choices=[BookingFormChoice(value=o.value, label=o.label) for o in record.options],
        )


@strawberry.type(description="A consent checkbox on a scheduling page.")
class ConsentCheckbox:
    communication_type_id: str = strawberry.field(
        description="Names the consent: the `communicationTypeId` of its answer in "
        "`BookMeetingInput.legalConsentResponses`."
    )
    label: str | None = strawberry.field(description="Label shown to the booker.")
    required: bool = strawberry.field(description="A booking must consent to it.")


@strawberry.type(description="The legal consent a scheduling page asks for before booking.")
class LegalConsent:
    checkboxes: list[ConsentCheckbox] = strawberry.field(description="Consent checkboxes.")
    communication_consent_text: str | None = strawberry.field(
        description="Text shown above the checkboxes."
    )
    processing_consent_type: str | None = strawberry.field(
        description="How consent to process data is given: IMPLICIT or REQUIRED_CHECKBOX."
    )
    processing_consent_text: str | None = strawberry.field(
        description="Text about processing the booker's data."
    )
    processing_consent_checkbox_label: str | None = strawberry.field(
        description="Label of the processing consent checkbox."
    )
    privacy_policy_text: str | None = strawberry.field(description="Privacy policy text.")

    @classmethod
    def from_record(cls, record: domain.LegalConsent) -> LegalConsent:
        """The GraphQL view of a page's legal consent."""
        return cls(
            checkboxes=[
                ConsentCheckbox(
                    communication_type_id=c.communication_type_id,
                    label=c.label,
                    required=c.required,
                )
                for c in record.checkboxes
            ],
            communication_consent_text=record.communication_consent_text,
            processing_consent_type=record.processing_consent_type,
            processing_consent_text=record.processing_consent_text,
            processing_consent_checkbox_label=record.processing_consent_checkbox_label,
            privacy_policy_text=record.privacy_policy_text,
        )


@strawberry.type(description="A span of time.")
class TimeRange:
    start: datetime = strawberry.field(description="Start, UTC.")
    end: datetime = strawberry.field(description="End, UTC.")


@strawberry.type(description="What a scheduling page needs before booking.")
class BookingInfo:
    link_id: str = strawberry.field(description="HubSpot's id of the link.")
    durations_minutes: list[int] = strawberry.field(description="Bookable meeting lengths.")
    start_time_increment_minutes: int | None = strawberry.field(
        description="Minutes between bookable starts."
    )
    weeks_to_advertise: int | None = strawberry.field(description="How far ahead one can book.")
    buffer_minutes: int | None = strawberry.field(description="Gap kept between meetings.")
    can_add_guests: bool | None = strawberry.field(description="Guests may be added.")
    max_guest_count: int | None = strawberry.field(description="Most guests per booking.")
    location: str | None = strawberry.field(description="Where the meeting takes place.")
    is_offline: bool | None = strawberry.field(description="The organizer's calendar is offline.")
    form_fields: list[BookingFormField] = strawberry.field(description="Questions to answer.")
    legal_consent: LegalConsent | None = strawberry.field(
        description="The consent a booking must give; null when the page asks for none."
    )
    organizers: list[Member] = strawberry.field(description="The people one books with.")
    busy_times: list[TimeRange] = strawberry.field(description="When organizers are busy.")

    @classmethod
    def from_record(cls, record: domain.BookingInfo) -> BookingInfo:
        """The GraphQL view of booking information."""
        return cls(
            link_id=record.link_id,
            durations_minutes=list(record.durations_minutes),
            start_time_increment_minutes=record.start_time_increment_minutes,
            weeks_to_advertise=record.weeks_to_advertise,
            buffer_minutes=record.buffer_minutes,
            can_add_guests=record.can_add_guests,
            max_guest_count=record.max_guest_count,
            location=record.location,
            is_offline=record.is_offline,
            form_fields=[BookingFormField.from_record(f) for f in record.form_fields],
            legal_consent=None
            if record.legal_consent is None
            else LegalConsent.from_record(record.legal_consent),
            organizers=[Member.from_record(m) for m in record.organizers],
            busy_times=[TimeRange(start=r.start, end=r.end) for r in record.busy_times],
        )


@strawberry.type(description="A bookable start on a scheduling page.")
class AvailabilitySlot:
    start: datetime = strawberry.field(description="Start, UTC.")
    end: datetime = strawberry.field(description="End, UTC.")
    duration_minutes: int = strawberry.field(description="Meeting length this slot is for.")


@strawberry.type(description="A HubSpot scheduling page.")
class SchedulingLink(Node):
    slug: str | None = strawberry.field(
        description="The end of the page's URL (always set; nullable like `Course.slug`)."
    )
    url: str | None = strawberry.field(description="The full booking URL.")
    name: str | None = strawberry.field(description="The page's name.")
    type: SchedulingLinkType | None = strawberry.field(
        description="Personal, group or round robin."
    )
    organizer: Member | None = strawberry.field(description="The HubSpot user who owns the page.")
    is_default: bool | None = strawberry.field(description="The organizer's default page.")
    record: strawberry.Private[domain.SchedulingLink]

    @classmethod
    def from_record(cls, record: domain.SchedulingLink) -> SchedulingLink:
        """The GraphQL view of a scheduling link."""
        organizer = (
            None
            if record.organizer_id is None
            else Member.from_record(
                domain.Member(
                    record.provider, key=record.organizer_id, provider_id=record.organizer_id
                )
            )
        )
        return cls(
            id=strawberry.ID(encode_id("SchedulingLink", record.provider, record.slug)),
            slug=record.slug,
            url=record.url,
            name=record.name,
            type=record.type,
            organizer=organizer,
            is_default=record.is_default,
            record=record,
        )

    @strawberry.field(description="Durations, rules, organizers and busy times of this page.")
    async def booking_info(
        self,
        info: Info,
        timezone: Annotated[
            str,
            strawberry.argument(
                description="An IANA time zone name (`America/New_York`) HubSpot presents "
                "the page in; anything else is BAD_USER_INPUT."
            ),
        ],
    ) -> BookingInfo | None:
        found = await scheduling.booking_info(info.context, self.record.slug, timezone)
        return None if found is None else BookingInfo.from_record(found)

    @strawberry.field(
        description="Bookable slots of the month `monthOffset` months from now, by start time. "
        "Null (with an error) when HubSpot fails or an argument is wrong; the link stays."
    )
    async def availability(
        self,
        info: Info,
        timezone: Annotated[
            str,
            strawberry.argument(
                description="An IANA time zone name (`America/New_York`) HubSpot reads the "
                "month in; anything else is BAD_USER_INPUT."
            ),
        ],
        month_offset: Annotated[
            int,
            strawberry.argument(
                description=f"Months after the current one, 0 to {scheduling.MAX_MONTH_OFFSET}; "
                "outside that, BAD_USER_INPUT before HubSpot is asked."
            ),
        ] = 0,
    ) -> list[AvailabilitySlot] | None:
        slots = await scheduling.availability(
            info.context, self.record.slug, timezone, month_offset
        )
        return [
            AvailabilitySlot(start=s.start, end=s.end, duration_minutes=s.duration_minutes)
            for s in slots
        ]


@strawberry.type(description="A scheduling link and its cursor.")
class SchedulingLinkEdge(Edge[SchedulingLink]):
    cursor: str = strawberry.field(
        description="Opaque cursor that resumes right after this link. HubSpot continues "
        "from its page ends only, so resuming from a link inside a HubSpot page reads that "
        "page again from its start."
    )
    node: SchedulingLink = strawberry.field(description="The scheduling link.")

    @classmethod
    def from_edge(cls, edge: pagination.Edge[domain.SchedulingLink]) -> SchedulingLinkEdge:
        """The GraphQL view of a scheduling link's edge."""
        return cls(cursor=edge.cursor, node=SchedulingLink.from_record(edge.node))


@strawberry.type(description="A page of scheduling links.")
class SchedulingLinkConnection(Connection[SchedulingLinkEdge]):
    edges: list[SchedulingLinkEdge] = strawberry.field(description="This page's links.")
    total_count: int | None = strawberry.field(description="Links matching the filter.")


@strawberry.type(description="A booked meeting, as HubSpot confirmed it.")
class Booking:
    calendar_event_id: str | None = strawberry.field(description="Calendar event id.")
    start: datetime = strawberry.field(description="Start, UTC.")
    end: datetime = strawberry.field(description="End, UTC.")
    subject: str | None = strawberry.field(description="Calendar subject.")
    timezone: str | None = strawberry.field(description="The booking's time zone.")
    web_conference_url: str | None = strawberry.field(description="Video link, if any.")

    @classmethod
    def from_record(cls, record: domain.Booking) -> Booking:
        """The GraphQL view of a booking."""
        return cls(
            calendar_event_id=record.calendar_event_id,
            start=record.start,
            end=record.end,
            subject=record.subject,
            timezone=record.timezone,
            web_conference_url=record.web_conference_url,
        )


@strawberry.type(description="The result of `bookMeeting`.")
class BookMeetingPayload:
    booking: Booking | None = strawberry.field(description="The booking made.")


@strawberry.type(description="Whether a provider is configured and answering.")
class ProviderStatus:
    provider: Provider = strawberry.field(description="The provider.")
    configured: bool = strawberry.field(description="It has a configuration section.")
    healthy: bool = strawberry.field(
        description="Its last request did not fail for its own reasons."
    )
    last_error: str | None = strawberry.field(description="Why it last failed, if it is unwell.")
    sharing: StateSharing = strawberry.field(
        description="Where this process keeps its cache, rate limit and tokens ([redis])."
    )
