"""Seeded data set of the HeyPeers simulator: meetings, group leaders, SSO members.

The records of the provider documents (meetings 9123, 9124 and 9131, leaders 4501 and
4502, member ``sso-user-abc123``) are part of every data set verbatim; everything else is
drawn from ``rng_for(seed, "heypeers")`` around ``clock.now()``. See ``heypeers.py`` for
the simulator's manual.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import orjson

from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.fake import iso_ms, person, rng_for

#: The organization every generated record belongs to (the documents' example org).
ORGANIZATION_ID = 5
#: Every documented waitlist status of a member on a meeting.
WAITING_STATUSES = ("waiting", "accepted", "rejected", "offered", "expired")
#: The documents' example member: registered to 9123, waitlisted on 9131, nothing else.
EXAMPLE_IDP_ID = "sso-user-abc123"
#: The generated member that holds many registrations (so member paging is exercised).
BUSY_IDP_ID = "sso-user-0001"
#: Ids below this are reserved for the documents' examples.
FIRST_GENERATED_MEETING_ID = 10_001
FIRST_GENERATED_LEADER_ID = 4503
FIRST_GENERATED_USER_ID = 70_001
#: The simulated clock used when none is given (fixed, so data sets are reproducible).
DEFAULT_CLOCK = Clock()
AVATAR_URL = "https://heypeers-assets.s3.amazonaws.com/users/avatars/thumb/{id}.png"

_SPREAD = timedelta(days=180)
_SLOT = timedelta(minutes=15)
_TOPICS = (
    ("Grief & Loss", "Grief Support"),
    ("Anxiety", "Anxiety Relief"),
    ("Addiction & Recovery", "Recovery"),
    ("Depression", "Mood Support"),
    ("Parenting", "Parents"),
    ("Caregiving", "Caregivers"),
    ("Chronic Illness", "Chronic Illness"),
    ("LGBTQ+ Support", "Pride"),
    ("Veterans", "Veterans"),
    ("Workplace Stress", "Burnout"),
)
_FORMATS = ("Circle", "Check-in", "Workshop", "Peer Group", "Meetup", "Support Group")
_SPECIAL_FOCUS = (
    "General",
    "Young Adults",
    "Seniors",
    "Parents",
    "Veterans",
    "Healthcare Workers",
    "Students",
    "First Responders",
)
_HOSTS = ("HeyPeers", "Peer Support Network", "Wellness Alliance", "Recovery Collective")
_DURATIONS = (15, 30, 45, 50, 60, 60, 60, 60, 75, 90, 90, 120)
_PRICES = (0, 0, 0, 0, 0, 0, 5, 10, 25)
_CAPACITIES = (6, 8, 10, 12, 15, 20, 25, 50)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class GroupLeader:
    """A meeting facilitator; ``avatar`` is None when unset (the API shows a default)."""

    id: int
    name: str
    avatar: str | None


@dataclass(slots=True)
class Meeting:
    """One meeting as stored: the raw values the export endpoint returns.

    Read-only by convention; not frozen because frozen construction triples the time
    it takes to generate 100,000 meetings.
    """

    id: int
    name: str
    meeting_type: str
    start_time: str
    end_time: str
    duration: int
    status: str
    topic: str
    special_focus: str
    host: str
    location: str
    price: int
    max_attendees: int
    registered_attendees: int
    meeting_description: str | None
    group_leader_id: int | None
    privacy: bool
    eap: bool
    allow_meeting_donation: bool
    invitation_only: bool
    wait_list: bool


@dataclass(frozen=True, slots=True)
class Registration:
    """A member's seat or waitlist entry on one meeting."""

    meeting_id: int
    registered: bool
    registered_at: str | None
    waiting_status: str | None


@dataclass(frozen=True, slots=True)
class Member:
    """A member provisioned through SSO, looked up by ``idp_id``."""

    idp_id: str
    user_id: int
    name: str
    registrations: tuple[Registration, ...]


@dataclass(frozen=True)
class HeyPeersData:
    """The whole HeyPeers data set; meetings in stored (id) order."""

    organization_id: int
    meetings: tuple[Meeting, ...]
    group_leaders: tuple[GroupLeader, ...]
    members: tuple[Member, ...]

    @classmethod
    def generate(
        cls, *, seed: int = 0, size: int = 200, clock: Clock = DEFAULT_CLOCK
    ) -> HeyPeersData:
        """Draw ``size`` meetings (the documents' three included) and their members."""
        return _Generator(rng_for(seed, "heypeers"), size, clock.now()).run()

    def dump(self) -> bytes:
        """Canonical bytes of the whole data set (same seed, size and clock: same bytes)."""
        return orjson.dumps(self, option=orjson.OPT_SORT_KEYS)


# --- the documents' examples -------------------------------------------------------------

EXAMPLE_LEADERS = (
    GroupLeader(4501, "Jane D.", AVATAR_URL.format(id=4501)),
    GroupLeader(4502, "Sam L.", None),
)
EXAMPLE_MEETINGS = (
    Meeting(
        id=9123,
        name="Morning Grief Support Circle",
        meeting_type="Group",
        start_time="2026-05-23T15:00:00.000Z",
        end_time="2026-05-23T16:00:00.000Z",
        duration=60,
        status="scheduled",
        topic="Grief & Loss",
        special_focus="General",
        host="HeyPeers",
        location="heypeers",
        price=0,
        max_attendees=12,
        registered_attendees=7,
        meeting_description="A supportive space to share and process grief.",
        group_leader_id=4501,
        privacy=False,
        eap=False,
        allow_meeting_donation=True,
        invitation_only=False,
        wait_list=False,
    ),
    Meeting(
        id=9124,
        name="Evening Recovery Check-in",
        meeting_type="Group",
        start_time="2026-05-24T23:30:00.000Z",
        end_time="2026-05-25T00:30:00.000Z",
        duration=60,
        status="scheduled",
        topic="Addiction & Recovery",
        special_focus="Young Adults",
        host="Recovery Collective",
        location="heypeers",
        price=10,
        max_attendees=15,
        registered_attendees=9,
        meeting_description="A nightly check-in for people in recovery.",
        group_leader_id=4502,
        privacy=False,
        eap=False,
        allow_meeting_donation=False,
        invitation_only=False,
        wait_list=False,
    ),
    Meeting(
        id=9131,
        name="Anxiety & Stress Workshop",
        meeting_type="Group",
        start_time="2026-05-26T17:00:00.000Z",
        end_time="2026-05-26T18:00:00.000Z",
        duration=60,
        status="scheduled",
        topic="Anxiety",
        special_focus="Healthcare Workers",
        host="Wellness Alliance",
        location="zoom",
        price=0,
        max_attendees=8,
        registered_attendees=8,
        meeting_description=None,
        group_leader_id=4502,
        privacy=False,
        eap=True,
        allow_meeting_donation=False,
        invitation_only=False,
        wait_list=True,
    ),
)
EXAMPLE_MEMBER = Member(
    idp_id=EXAMPLE_IDP_ID,
    user_id=70_000,
    name="Alex B.",
    registrations=(
        Registration(9123, True, "2026-05-20T18:42:11.000Z", None),
        Registration(9131, False, None, "waiting"),
    ),
)
#: Not in the documents: a meeting in progress at the default simulated now (it started
#: at 11:30 and ends at 12:30 on 2026-05-22), held by a member of its own so that the
#: documents' member keeps exactly its two documented entries.
#: Above every generated id, so the documents' rows still lead the unpaginated export.
IN_PROGRESS_MEETING_ID = 990_001
IN_PROGRESS_MEETING = Meeting(
    id=IN_PROGRESS_MEETING_ID,
    name="Midday Peer Check-in",
    meeting_type="Group",
    start_time="2026-05-22T11:30:00.000Z",
    end_time="2026-05-22T12:30:00.000Z",
    duration=60,
    status="scheduled",
    topic="Workplace Stress",
    special_focus="General",
    host="HeyPeers",
    location="heypeers",
    price=0,
    max_attendees=10,
    registered_attendees=4,
    meeting_description="A lunchtime drop-in for anyone feeling the pressure at work.",
    group_leader_id=4501,
    privacy=False,
    eap=False,
    allow_meeting_donation=False,
    invitation_only=False,
    wait_list=False,
)
IN_PROGRESS_IDP_ID = "sso-user-inprogress"
IN_PROGRESS_MEMBER = Member(
    idp_id=IN_PROGRESS_IDP_ID,
    user_id=69_999,
    name="Robin K.",
    registrations=(
        Registration(IN_PROGRESS_MEETING_ID, True, "2026-05-21T09:15:00.000Z", None),
        Registration(9123, True, "2026-05-21T09:16:00.000Z", None),
    ),
)
#: Generated meetings keep clear of (now, this instant): at the default clock the
#: documents' 9123 is then the first meeting of the all_upcoming export, as documented.
_FIRST_EXAMPLE_START = datetime(2026, 5, 23, 15, 0, tzinfo=UTC)


class _Generator:
    """One pass of drawing; the order of draws is part of the seed's meaning."""

    def __init__(self, rng: random.Random, size: int, now: datetime) -> None:
        self.rng = rng
        self.size = max(size, len(EXAMPLE_MEETINGS))
        self.now = now
        # Slots are on a fixed 15-minute grid so any clock yields round start times.
        self.grid = datetime(2000, 1, 1, tzinfo=UTC) + (
            (now - datetime(2000, 1, 1, tzinfo=UTC)) // _SLOT * _SLOT
        )
        # Seats already taken by generated members, so they never exceed the counts.
        self.seated: dict[int, int] = {9123: 2, IN_PROGRESS_MEETING_ID: 1}

    def run(self) -> HeyPeersData:
        leaders = self.leaders()
        meetings = self.meetings([leader.id for leader in leaders])
        if len(meetings) > len(EXAMPLE_MEETINGS):
            # The meeting in progress takes the last drawn one's place: ``size`` stays the
            # count, and every other meeting is drawn as it always was.
            meetings[-1] = IN_PROGRESS_MEETING
        members = self.members(meetings)
        return HeyPeersData(
            organization_id=ORGANIZATION_ID,
            meetings=tuple(sorted(meetings, key=lambda m: m.id)),
            group_leaders=EXAMPLE_LEADERS + tuple(leaders),
            members=(EXAMPLE_MEMBER, IN_PROGRESS_MEMBER, *members),
        )

    def leaders(self) -> list[GroupLeader]:
        count = min(500, max(3, self.size // 100))
        leaders = []
        for n in range(count):
            leader_id = FIRST_GENERATED_LEADER_ID + n
            first, last = person(self.rng)
            avatar = AVATAR_URL.format(id=leader_id) if self.rng.random() < 0.7 else None
            leaders.append(GroupLeader(leader_id, f"{first} {last[0]}.", avatar))
        return leaders

    def meetings(self, leader_ids: list[int]) -> list[Meeting]:
        count = self.size - len(EXAMPLE_MEETINGS)
        # Ids are drawn independently of start times, so id order is not chronological.
        ids = self.rng.sample(
            range(FIRST_GENERATED_MEETING_ID, FIRST_GENERATED_MEETING_ID + 4 * count + 10), count
        )
        all_leaders = [4501, 4502, *leader_ids]
        return [*EXAMPLE_MEETINGS, *(self.meeting(i, all_leaders) for i in ids)]

    def start_and_duration(self) -> tuple[datetime, int]:
        slots = _SPREAD // _SLOT
        random = self.rng.random
        while True:
            start = self.grid + int((2 * random() - 1) * slots) * _SLOT
            duration = _pick(random(), _DURATIONS)
            end = start + timedelta(minutes=duration)
            if not (start < _FIRST_EXAMPLE_START and end > self.now):
                return start, duration

    def meeting(self, meeting_id: int, leader_ids: list[int]) -> Meeting:
        # rng.random() and _pick rather than choice/randint: 100,000 meetings in seconds.
        random = self.rng.random
        start, duration = self.start_and_duration()
        end = start + timedelta(minutes=duration)
        if end <= self.now:
            status = "cancel" if random() < 0.08 else "complete"
        else:
            status = "cancel" if random() < 0.05 else "scheduled"
        topic, short = _pick(random(), _TOPICS)
        one_to_one = random() < 0.1
        max_attendees = 1 if one_to_one else _pick(random(), _CAPACITIES)
        registered = int(random() * (max_attendees + 1))
        price = _pick(random(), _PRICES)
        part_of_day = (
            "Morning" if start.hour < 12 else "Afternoon" if start.hour < 17 else "Evening"
        )
        kind = _pick(random(), _FORMATS)
        name = f"{short} 1:1 Session" if one_to_one else f"{part_of_day} {short} {kind}"
        description = (
            None if random() < 0.2 else f"A peer-led space for anyone living with {topic.lower()}."
        )
        leader_id = _pick(random(), leader_ids)
        return Meeting(
            id=meeting_id,
            name=name,
            meeting_type="OneToOne" if one_to_one else "Group",
            start_time=_iso(start),
            end_time=_iso(end),
            duration=duration,
            status=status,
            topic=topic,
            special_focus=_pick(random(), _SPECIAL_FOCUS),
            host=_pick(random(), _HOSTS),
            location="zoom" if random() < 0.35 else "heypeers",
            price=price,
            max_attendees=max_attendees,
            registered_attendees=registered,
            meeting_description=description,
            group_leader_id=None if random() < 0.08 else leader_id,
            privacy=random() < 0.2,
            eap=random() < 0.25,
            allow_meeting_donation=random() < 0.5 and price == 0,
            invitation_only=random() < 0.1,
            wait_list=random() < 0.3 or (registered == max_attendees and not one_to_one),
        )

    def members(self, meetings: list[Meeting]) -> list[Member]:
        rng = self.rng
        upcoming = [
            m for m in meetings if m.status == "scheduled" and _parse(m.end_time) > self.now
        ]
        rng.shuffle(upcoming)
        count = max(4, self.size // 25)
        members = []
        for n in range(1, count + 1):
            taken: dict[int, Registration] = {}
            if n == 1:
                self.busy_registrations(upcoming, taken)
            for meeting in rng.sample(meetings, min(len(meetings), rng.randint(0, 8))):
                self.register(meeting, taken, status=None)
            first, last = person(rng)
            members.append(
                Member(
                    idp_id=f"sso-user-{n:04d}",
                    user_id=FIRST_GENERATED_USER_ID + n,
                    name=f"{first} {last[0]}.",
                    registrations=tuple(sorted(taken.values(), key=lambda r: r.meeting_id)),
                )
            )
        return members

    def busy_registrations(self, upcoming: list[Meeting], taken: dict[int, Registration]) -> None:
        """Every waitlist status once, then seats on about one upcoming meeting in 80."""
        waitlisted = iter(m for m in upcoming if m.wait_list)
        for status in WAITING_STATUSES:
            for meeting in waitlisted:
                if self.register(meeting, taken, status=status, strict=True):
                    break
        target = len(taken) + max(3, self.size // 80)
        for meeting in upcoming:
            if len(taken) >= target:
                break
            self.register(meeting, taken, status=None)

    def register(
        self,
        meeting: Meeting,
        taken: dict[int, Registration],
        status: str | None,
        strict: bool = False,
    ) -> bool:
        """Seat the member (or waitlist them) when the meeting's counts allow it.

        A full meeting with a waitlist queues the member as ``waiting`` instead, unless
        ``strict`` asks for exactly ``status`` or nothing.
        """
        rng = self.rng
        if meeting.id in taken:
            return False
        if status is None and meeting.wait_list and rng.random() < 0.4:
            status = rng.choice(WAITING_STATUSES)
        seated = status in (None, "accepted")
        if seated and self.seated.get(meeting.id, 0) >= meeting.registered_attendees:
            if strict or not meeting.wait_list:
                return False
            seated, status = False, "waiting"
        registered_at = None
        if seated:
            self.seated[meeting.id] = self.seated.get(meeting.id, 0) + 1
            latest = min(_parse(meeting.start_time), self.now) - timedelta(minutes=1)
            registered_at = iso_ms(latest - timedelta(seconds=rng.randint(0, 30 * 24 * 3600)))
        taken[meeting.id] = Registration(meeting.id, seated, registered_at, status)
        return True


def _pick(fraction: float, choices: Sequence[_T]) -> _T:
    return choices[int(fraction * len(choices))]


def _iso(instant: datetime) -> str:
    # Same text as fake.iso_ms for aware UTC instants, several times faster.
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
