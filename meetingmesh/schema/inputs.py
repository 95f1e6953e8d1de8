"""GraphQL input types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from meetingmesh.resolvers import meetings as meeting_resolvers
from meetingmesh.schema.enums import Provider, SchedulingLinkType


@strawberry.input(description="Which meetings a `meetings` list holds.")
class MeetingFilter:
    providers: list[Provider] | None = strawberry.field(
        default=None, description="Only these providers (default: every configured one)."
    )
    starts_after: datetime | None = strawberry.field(
        default=None, description="Meetings starting at or after this instant (inclusive)."
    )
    starts_before: datetime | None = strawberry.field(
        default=None, description="Meetings starting before this instant (exclusive)."
    )
    course_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Meetings of one course (a Course id or a Thought Industries course id); "
        "providers without courses contribute none.",
    )
    room: str | None = strawberry.field(
        default=None, description="Daily sessions of one room; other providers contribute none."
    )
    ongoing: bool | None = strawberry.field(
        default=None, description="Only meetings in progress now (true) or not (false)."
    )

    def to_resolver(self) -> meeting_resolvers.MeetingFilter:
        """The filter as the resolvers take it."""
        return meeting_resolvers.MeetingFilter(
            providers=None if self.providers is None else tuple(self.providers),
            starts_after=self.starts_after,
            starts_before=self.starts_before,
            course_id=self.course_id,
            room=self.room,
            ongoing=self.ongoing,
        )


@strawberry.input(description="Which scheduling links a `schedulingLinks` list holds.")
class SchedulingLinkFilter:
    name: str | None = strawberry.field(default=None, description="Links whose name matches.")
    organizer_user_id: str | None = strawberry.field(
        default=None, description="Links organized by this HubSpot user id."
    )
    type: SchedulingLinkType | None = strawberry.field(default=None, description="Links of a kind.")


@strawberry.input(description="An answer to one of a scheduling page's questions.")
class FormFieldAnswer:
    name: str = strawberry.field(description="The question's `name` (`BookingFormField.name`).")
    value: str = strawberry.field(
        description="The answer; for a choice question one of its `options`."
    )


@strawberry.input(description="The booker's answer to one consent checkbox.")
class ConsentAnswer:
    communication_type_id: str = strawberry.field(
        description="The checkbox's `communicationTypeId` (`ConsentCheckbox`)."
    )
    consented: bool = strawberry.field(description="Whether the booker consents.")


@strawberry.input(description="A meeting to book through a HubSpot scheduling page.")
class BookMeetingInput:
    slug: str = strawberry.field(description="The scheduling page's slug.")
    first_name: str = strawberry.field(description="Booker's first name.")
    last_name: str = strawberry.field(description="Booker's last name.")
    email: str = strawberry.field(description="Booker's email address.")
    start_time: datetime = strawberry.field(description="Start of an offered slot.")
    duration_minutes: int = strawberry.field(description="One of the page's durations.")
    timezone: str = strawberry.field(description="The booker's IANA time zone.")
    guest_emails: list[str] | None = strawberry.field(
        default=None, description="Guests to invite, where the page allows guests."
    )
    form_fields: list[FormFieldAnswer] | None = strawberry.field(
        default=None,
        description="Answers to the page's custom questions (`bookingInfo.formFields` with "
        "`custom: true`); a required one left out is refused as `formFields.<name>`.",
    )
    legal_consent_responses: list[ConsentAnswer] | None = strawberry.field(
        default=None,
        description="Answers to the page's consent checkboxes (`bookingInfo.legalConsent`); "
        "a required one not consented is refused as `legalConsentResponses.<id>`.",
    )
