"""Live events travel between processes as typed JSON, and nothing else is built from it."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from meetingmesh.domain import Attendee, DailyDetails, Meeting, MeetingStatus, Member, Provider
from meetingmesh.events import (
    AttendeeChange,
    AttendeeChanged,
    AvailabilityChanged,
    AvailabilityReason,
    MeetingChange,
    MeetingUpdated,
)
from meetingmesh.shared.codec import Unreadable, decode, encode

NOW = datetime(2026, 5, 22, 12, tzinfo=UTC)
MEETING = Meeting(
    provider=Provider.DAILY,
    key="session-1",
    title="standup",
    start_time=NOW,
    status=MeetingStatus.ONGOING,
    hosts=(Member(Provider.DAILY, "host-1", name="Ada"),),
    attendees=(Attendee("p-1", name="Grace", joined_at=NOW, duration_seconds=30),),
    details=DailyDetails(room="standup", ongoing=True, max_participants=10),
)


@pytest.mark.parametrize(
    "event",
    [
        MeetingUpdated(
            MEETING,
            frozenset({MeetingChange.STATUS, MeetingChange.ATTENDEE_COUNT}),
            NOW,
            previous=Meeting(Provider.DAILY, "session-1", "standup"),
        ),
        AttendeeChanged(Provider.DAILY, "session-1", Attendee("p-2"), AttendeeChange.LEFT, NOW),
        AvailabilityChanged(Provider.HUBSPOT, None, AvailabilityReason.PROVIDER_NOTIFIED, NOW),
    ],
    ids=["meeting", "attendee", "availability"],
)
def test_every_event_comes_back_equal_after_json(event: object) -> None:
    assert decode(orjson.loads(orjson.dumps(encode(event)))) == event


def test_a_message_naming_a_type_the_gateway_does_not_own_is_unreadable() -> None:
    with pytest.raises(Unreadable):
        decode({"@": "Popen", "f": {"args": ["true"]}})
    with pytest.raises(Unreadable):
        decode({"@e": "Meeting", "v": "X"})
    with pytest.raises(Unreadable):
        decode({"unknown": 1})
