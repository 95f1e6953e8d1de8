"""Provider-neutral records shared by every layer.

Adapters in ``meetingmesh/providers`` return these; the Strawberry types in
``meetingmesh/schema`` turn them into GraphQL. They know nothing of either: plain,
immutable dataclasses with times as timezone-aware UTC datetimes and durations in the
contract's units (minutes for meetings and bookings, seconds for attendance).

The merged order lives here too: ``SortKey`` (start time, provider, key), the one pair
of time bounds (``EARLIEST``/``LATEST``) and ``ResumePoint``, where one provider's
stream picks up again after a cursor. An adapter makes the resume point's anchor and
is the only code that reads it; the merge and the cursors carry it unopened.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Provider(enum.Enum):
    """A meeting provider; the value is its configuration section name."""

    HEYPEERS = "heypeers"
    THOUGHT_INDUSTRIES = "thoughtindustries"
    HUBSPOT = "hubspot"
    DAILY = "daily"

    # Members are singletons compared by identity: hash them so, in C. Enum's own
    # __hash__ is Python code, and providers key every merge, id and lookup.
    __hash__ = object.__hash__

    @property
    def label(self) -> str:
        """The provider's display name, used in error messages."""
        return _LABELS[self]


_LABELS = {
    Provider.HEYPEERS: "HeyPeers",
    Provider.THOUGHT_INDUSTRIES: "Thought Industries",
    Provider.HUBSPOT: "HubSpot",
    Provider.DAILY: "Daily",
}


class MeetingStatus(enum.Enum):
    """Where a meeting is in its life."""

    SCHEDULED = "scheduled"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"


class WaitlistStatus(enum.Enum):
    """A member's place on a meeting's wait list (HeyPeers ``waiting_status``)."""

    WAITING = "waiting"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    OFFERED = "offered"
    EXPIRED = "expired"


class SchedulingLinkType(enum.Enum):
    """The kind of a HubSpot scheduling page."""

    PERSONAL_LINK = "PERSONAL_LINK"
    GROUP_CALENDAR = "GROUP_CALENDAR"
    ROUND_ROBIN_CALENDAR = "ROUND_ROBIN_CALENDAR"


class MeetingOrder(enum.Enum):
    """Sort direction of a meetings list (by start time, provider, provider key)."""

    START_TIME_ASC = "asc"
    START_TIME_DESC = "desc"


@dataclass(frozen=True, slots=True)
class Member:
    """A person known to one provider: a HeyPeers member or leader, an instructor, ..."""

    provider: Provider
    key: str
    provider_id: str | None = None
    name: str | None = None
    email: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class Attendee:
    """Someone registered for or present in a meeting."""

    id: str
    name: str | None = None
    email: str | None = None
    member: Member | None = None
    joined_at: datetime | None = None
    duration_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Attendance:
    """One attendee of one meeting.

    ``Attendee.id`` is the provider's, and a Thought Industries user id names the person
    in every meeting; what belongs to one meeting (join time, duration) is told apart by
    the meeting's key beside it.
    """

    provider: Provider
    meeting_key: str
    attendee: Attendee


@dataclass(frozen=True, slots=True)
class Course:
    """A Thought Industries course."""

    provider: Provider
    provider_id: str
    title: str | None = None
    slug: str | None = None
    status: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class HeyPeersDetails:
    """What only HeyPeers knows about a meeting."""

    meeting_type: str | None = None
    price: float | None = None
    special_focus: str | None = None
    host: str | None = None
    location: str | None = None
    privacy: bool | None = None
    eap: bool | None = None
    allow_meeting_donation: bool | None = None
    invitation_only: bool | None = None
    wait_list: bool | None = None
    duration_text: str | None = None
    raw_status: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """A Thought Industries physical location."""

    id: str | None = None
    name: str | None = None
    room: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class ThoughtIndustriesDetails:
    """What only Thought Industries knows about a meeting."""

    course_id: str | None = None
    location: Location | None = None
    instructors: tuple[str, ...] = ()
    attendee_info: str | None = None


@dataclass(frozen=True, slots=True)
class DailyDetails:
    """What only Daily knows about a meeting session."""

    room: str
    ongoing: bool
    max_participants: int | None = None
    duration_seconds: int | None = None


Details = HeyPeersDetails | ThoughtIndustriesDetails | DailyDetails


@dataclass(frozen=True, slots=True)
class Meeting:
    """One meeting from one provider.

    ``key`` is what identifies the meeting within its provider: the native id where the
    provider gives one, a synthesized stable key where it does not (HeyPeers export rows).
    ``attendees`` is None when the payload did not carry them (they must be fetched).
    """

    provider: Provider
    key: str
    title: str
    provider_id: str | None = None
    description: str | None = None
    topic: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration_minutes: int | None = None
    time_zone: str | None = None
    status: MeetingStatus = MeetingStatus.UNKNOWN
    join_url: str | None = None
    capacity: int | None = None
    registered_count: int | None = None
    hosts: tuple[Member, ...] = ()
    course_id: str | None = None
    course: Course | None = None
    attendees: tuple[Attendee, ...] | None = None
    details: Details | None = None


@dataclass(frozen=True, slots=True)
class MemberMeeting:
    """A meeting on a member's schedule, with the member's own registration state."""

    meeting: Meeting
    registered: bool
    registered_at: datetime | None = None
    waitlist_status: WaitlistStatus | None = None


@dataclass(frozen=True, slots=True)
class AggregationBucket:
    """One value of a facet and how many meetings have it."""

    value: str
    count: int
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Aggregation:
    """A facet over a meetings list (Thought Industries' own, or the gateway's ``provider``)."""

    key: str
    buckets: tuple[AggregationBucket, ...]
    label: str | None = None


@dataclass(frozen=True, slots=True)
class SchedulingLink:
    """A HubSpot scheduling page."""

    provider: Provider
    provider_id: str
    slug: str
    url: str | None = None
    name: str | None = None
    type: SchedulingLinkType | None = None
    organizer_id: str | None = None
    is_default: bool | None = None


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A span of time, aware UTC on both ends."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class FormOption:
    """One choice of a choice question: the value a booking sends, and what the booker sees."""

    value: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class FormField:
    """A question a booker answers on a scheduling page.

    ``custom`` questions are answered in the booking's form answers; the standard ones
    (first name, last name, email) by the booking's own fields.
    """

    name: str
    label: str | None = None
    field_type: str | None = None
    required: bool = False
    options: tuple[FormOption, ...] = ()
    value_type: str | None = None
    custom: bool = True


@dataclass(frozen=True, slots=True)
class ConsentCheckbox:
    """A consent checkbox on a scheduling page, named by its communication type."""

    communication_type_id: str
    label: str | None = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class LegalConsent:
    """The legal consent a scheduling page asks for: its checkboxes and the texts shown."""

    checkboxes: tuple[ConsentCheckbox, ...] = ()
    communication_consent_text: str | None = None
    processing_consent_type: str | None = None
    processing_consent_text: str | None = None
    processing_consent_checkbox_label: str | None = None
    privacy_policy_text: str | None = None


@dataclass(frozen=True, slots=True)
class BookingInfo:
    """What a scheduling page needs before booking: durations, rules, questions, consent,
    organizers and busy times."""

    link_id: str
    durations_minutes: tuple[int, ...]
    start_time_increment_minutes: int | None = None
    weeks_to_advertise: int | None = None
    buffer_minutes: int | None = None
    can_add_guests: bool | None = None
    max_guest_count: int | None = None
    location: str | None = None
    is_offline: bool | None = None
    form_fields: tuple[FormField, ...] = ()
    legal_consent: LegalConsent | None = None
    organizers: tuple[Member, ...] = ()
    busy_times: tuple[TimeRange, ...] = ()
    link_type: SchedulingLinkType | None = None


@dataclass(frozen=True, slots=True)
class AvailabilitySlot:
    """A bookable start on a scheduling page, for one meeting duration."""

    start: datetime
    end: datetime
    duration_minutes: int


@dataclass(frozen=True, slots=True)
class FormAnswer:
    """A booker's answer to one of a scheduling page's questions."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ConsentAnswer:
    """A booker's answer to one consent checkbox."""

    communication_type_id: str
    consented: bool


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """A booking to make through a scheduling page."""

    slug: str
    first_name: str
    last_name: str
    email: str
    start_time: datetime
    duration_minutes: int
    timezone: str
    guest_emails: tuple[str, ...] = ()
    form_answers: tuple[FormAnswer, ...] = ()
    consents: tuple[ConsentAnswer, ...] = ()


@dataclass(frozen=True, slots=True)
class Booking:
    """A booked meeting, as the scheduler confirmed it."""

    start: datetime
    end: datetime
    calendar_event_id: str | None = None
    subject: str | None = None
    timezone: str | None = None
    web_conference_url: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a provider list, with what the provider says about the rest."""

    items: tuple[T, ...]
    total_count: int | None = None
    has_more: bool = False
    next_token: str | None = None


#: The earliest and latest instants any provider's meetings fall between: time filters
#: are clamped into them, and a meeting without a start time sorts as ``EARLIEST``.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, tzinfo=UTC)


def start_of(meeting: Meeting) -> datetime:
    """A meeting's start, with ``EARLIEST`` standing in for none."""
    return meeting.start_time or EARLIEST


@dataclass(frozen=True, slots=True, order=True)
class SortKey:
    """A meeting's position in the merged order: (start time, provider, provider key).

    Ties on the start time are broken by the provider's configuration name, then by the
    provider's key, so the order is total and the same in every gateway process.
    """

    start_time: datetime
    provider: str
    key: str

    @classmethod
    def of(cls, meeting: Meeting) -> SortKey:
        """The sort key of ``meeting``."""
        return cls(start_of(meeting), meeting.provider.value, meeting.key)


#: A provider's position hint: a small JSON object only the adapter that made it reads.
Anchor = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where one provider's stream picks up again: an anchor and its next meeting's start.

    ``anchor`` names the provider page that holds the provider's next meeting; only the
    adapter that made it opens it. ``next_start`` is when that next meeting starts, so
    the adapter can check that the anchored page still holds it. Both are hints: the
    cursor's sort key decides what comes back.
    """

    anchor: Anchor
    next_start: datetime
