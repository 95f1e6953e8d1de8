"""Seeded data set of the Daily simulator: meeting sessions and their participants.

A Daily meeting session only exists once somebody has joined a room, so the data set
holds no future sessions: completed sessions spread over the 180 days before now, plus
a few *ongoing* ones that started in the last two hours and are still running at now.
Every timestamp and duration is a multiple of 15 s, as the document says Daily's are
accurate to about 15 s. The data is a snapshot taken at ``clock.now()``.

The oldest session (the last in list order) is a crowd: two hours long with
``CROWD_SIZE`` (250) participants, drawn from a generator of its own so that every
other session is the same as without it. Its participant list takes three pages of
100, and many of them share a ``join_time``.

See ``meetingmesh.simulators.daily`` for the HTTP contract and every choice written down.
"""

from __future__ import annotations

import gc
import random
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import accumulate
from operator import attrgetter
from typing import Any, NamedTuple

import orjson

from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.fake import FIRST_NAMES, LAST_NAMES, rng_for

PROVIDER = "daily"
#: The clock used when none is given (fixed at the default simulated now).
DEFAULT_CLOCK = Clock()
#: Timestamps and durations are multiples of this many seconds ("accurate to ~15 s").
GRANULARITY = 15
#: Completed sessions start within this many days before now.
HISTORY_DAYS = 180
#: Room names with their relative weights: some rooms are far busier than others.
ROOMS: tuple[tuple[str, int], ...] = (
    ("standup", 8),
    ("sales-demo", 4),
    ("support-hour", 4),
    ("design-review", 3),
    ("office-hours", 3),
    ("customer-sync", 3),
    ("onboarding", 2),
    ("all-hands", 1),
)
ROOM_NAMES: tuple[str, ...] = tuple(name for name, _ in ROOMS)
_ROOM_CUM_WEIGHTS = tuple(accumulate(weight for _, weight in ROOMS))
#: Weights of 0..12 recorded participants per session, mostly small calls (a few
#: sessions record nobody: Daily writes no join record for a stay shorter than 10 s).
_PARTICIPANT_CUM_WEIGHTS = tuple(accumulate((8, 14, 16, 14, 11, 9, 7, 6, 5, 4, 3, 2, 1)))
_MAX_PARTICIPANTS = 12
#: Known users who join with a meeting token (user_id set); the rest are guests.
_USER_POOL = 400
#: Participants of the crowd session (the oldest one): several participant pages.
CROWD_SIZE = 250
#: The crowd's participants come from their own generator, named like a provider.
CROWD_PROVIDER = "daily-crowd"
#: Fraction of sessions that deliberately reuse an earlier session's start_time,
#: so that the id tie-break of the ordering is exercised at every size.
_TIE_RATE = 0.08


class DailyParticipant(NamedTuple):
    """One recorded join of a meeting session (a participant who stayed >= 10 s)."""

    user_id: str | None
    user_name: str | None
    participant_id: str
    join_time: int
    duration: int

    def to_json(self) -> dict[str, Any]:
        """The participant object exactly as Daily prints it."""
        return {
            "user_id": self.user_id,
            "user_name": self.user_name,
            "participant_id": self.participant_id,
            "join_time": self.join_time,
            "duration": self.duration,
        }


class DailyMeeting(NamedTuple):
    """One meeting session: people together in one room during one time window."""

    id: str
    room: str
    start_time: int
    duration: int
    ongoing: bool
    max_participants: int
    #: Ordered by (join_time, participant_id), the order of the participants endpoint.
    participants: tuple[DailyParticipant, ...]

    def summary(self) -> dict[str, Any]:
        """The session without its participants (``GET /meetings/:id``)."""
        return {
            "id": self.id,
            "room": self.room,
            "start_time": self.start_time,
            "duration": self.duration,
            "ongoing": self.ongoing,
            "max_participants": self.max_participants,
        }

    def to_json(self) -> dict[str, Any]:
        """The session with its participants (an item of ``GET /meetings``)."""
        item = self.summary()
        item["participants"] = [p.to_json() for p in self.participants]
        return item


@dataclass(frozen=True)
class DailyData:
    """The whole Daily data set; ``meetings`` is in list order (newest first, then id desc)."""

    now: int
    meetings: tuple[DailyMeeting, ...]

    @classmethod
    def generate(cls, *, seed: int = 0, size: int = 200, clock: Clock = DEFAULT_CLOCK) -> DailyData:
        """``size`` sessions drawn from ``rng_for(seed, "daily")`` relative to ``clock.now()``."""
        if size < 1:
            raise ValueError("size must be at least 1")
        rng = rng_for(seed, PROVIDER)
        now = _floor(int(clock.now().timestamp()))
        with _gc_paused():
            users = [(_uuid4(rng), _full_name(rng)) for _ in range(_USER_POOL)]
            ongoing_count = min(len(ROOMS) // 2, max(1, size // 50))
            meetings = _past_sessions(rng, users, now, size - ongoing_count)
            ongoing_rooms = rng.sample(ROOM_NAMES, ongoing_count)
            meetings += [_ongoing_session(rng, users, now, room) for room in ongoing_rooms]
            meetings.sort(key=_MEETING_ORDER, reverse=True)
            # From its own generator, so the rest of the data set is what it always was.
            meetings[-1] = _crowd(rng_for(seed, CROWD_PROVIDER), users, meetings[-1])
        return cls(now=now, meetings=tuple(meetings))

    def dump(self) -> bytes:
        """Canonical bytes of the whole data set (same seed, size and clock: same bytes)."""
        return orjson.dumps(
            {"now": self.now, "meetings": [m.to_json() for m in self.meetings]},
            option=orjson.OPT_SORT_KEYS,
        )


User = tuple[str, str]


def _crowd(rng: random.Random, users: list[User], oldest: DailyMeeting) -> DailyMeeting:
    """The oldest session again, now two hours long with ``CROWD_SIZE`` participants."""
    duration = 480 * GRANULARITY
    participants = _participants(
        rng, users, oldest.start_time, oldest.start_time + duration, CROWD_SIZE, False
    )
    return oldest._replace(
        duration=duration, max_participants=CROWD_SIZE + 3, participants=participants
    )


#: The participants endpoint's order: join_time, then participant_id.
_PARTICIPANT_ORDER = attrgetter("join_time", "participant_id")
#: The list order of GET /meetings, reversed: start_time, then id.
_MEETING_ORDER = attrgetter("start_time", "id")


def _past_sessions(
    rng: random.Random, users: list[User], now: int, count: int
) -> list[DailyMeeting]:
    # Completed sessions last at most two hours and start at least four hours ago, so
    # they all ended before the ongoing sessions (last two hours) began.
    latest = now - 4 * 3600
    slots = HISTORY_DAYS * 86400 // GRANULARITY
    starts: list[tuple[int, str]] = []
    meetings: list[DailyMeeting] = []
    for index in range(count):
        room = _room(rng)
        start = latest - _below(rng, slots) * GRANULARITY
        # The first sessions always tie (same room, then another room) so that even the
        # smallest data set exercises the tie-break; later ones tie at random.
        if index in (1, 2) or (starts and rng.random() < _TIE_RATE):
            start, tied_room = starts[0] if index in (1, 2) else starts[_below(rng, len(starts))]
            if index == 1 or (index > 2 and rng.random() < 0.5):
                room = tied_room
            elif room == tied_room:
                room = ROOM_NAMES[(ROOM_NAMES.index(room) + 1) % len(ROOM_NAMES)]
        starts.append((start, room))
        meetings.append(_session(rng, users, room, start, end=None))
    return meetings


def _ongoing_session(rng: random.Random, users: list[User], now: int, room: str) -> DailyMeeting:
    start = now - (20 + _below(rng, 461)) * GRANULARITY  # 5 minutes to 2 hours ago
    return _session(rng, users, room, start, end=now)


def _session(
    rng: random.Random, users: list[User], room: str, start: int, end: int | None
) -> DailyMeeting:
    """A session; ``end`` is now for an ongoing session and None for a completed one."""
    ongoing = end is not None
    count = _weighted(rng, _PARTICIPANT_CUM_WEIGHTS)
    if ongoing:
        count = max(1, count)  # ongoing means somebody is in the room right now
    if end is None:
        # Nobody recorded: only stays under 10 s happened, so the session was short.
        steps = 1 + _below(rng, 8) if count == 0 else 20 + _below(rng, 461)
        end = start + steps * GRANULARITY
    duration = end - start
    participants = _participants(rng, users, start, end, count, ongoing)
    # max_participants counts everybody who was present, including the stays too short
    # to be recorded, so it is at least 1 and at least the number of recorded joins.
    max_participants = max(1, count) + (0, 0, 0, 1, 2)[_below(rng, 5)]
    return DailyMeeting(
        id=_uuid4(rng),
        room=room,
        start_time=start,
        duration=duration,
        ongoing=ongoing,
        max_participants=max_participants,
        participants=participants,
    )


def _participants(
    rng: random.Random, users: list[User], start: int, end: int, count: int, ongoing: bool
) -> tuple[DailyParticipant, ...]:
    if count == 0:
        return ()
    steps = (end - start) // GRANULARITY
    result: list[DailyParticipant] = []
    for index in range(count):
        # start_time is when the first user joined; that user stays to the end, so the
        # session ends when its last participant leaves (or is still running).
        join_step = 0 if index == 0 else _below(rng, steps)
        stay = steps - join_step
        if index > 0 and not (ongoing and rng.random() < 0.5):
            stay = 1 + _below(rng, stay)
        user_id: str | None
        user_name: str | None
        roll = rng.random()
        if roll < 0.12:
            user_id, user_name = None, None  # anonymous guest without a name
        elif roll < 0.25:
            user_id, user_name = None, FIRST_NAMES[_below(rng, len(FIRST_NAMES))]  # typed a name
        else:
            # The same user may appear twice in a session: a rejoin is a new participant.
            user_id, user_name = users[_below(rng, len(users))]
        join_time = start + join_step * GRANULARITY
        participant_id = _uuid4(rng)
        result.append(
            DailyParticipant(user_id, user_name, participant_id, join_time, stay * GRANULARITY)
        )
    result.sort(key=_PARTICIPANT_ORDER)
    return tuple(result)


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Half a million small tuples and no cycles among them: the cyclic collector would
    # rescan the growing heap over and over, costing about a third of the generation.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _room(rng: random.Random) -> str:
    return ROOM_NAMES[_weighted(rng, _ROOM_CUM_WEIGHTS)]


def _below(rng: random.Random, n: int) -> int:
    # An integer in [0, n): random() is a single C call, much cheaper than randrange,
    # and the spread is uniform enough for fake data at these magnitudes.
    return int(rng.random() * n)


def _weighted(rng: random.Random, cum_weights: tuple[int, ...]) -> int:
    return bisect_right(cum_weights, rng.random() * cum_weights[-1])


def _full_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _floor(timestamp: int) -> int:
    return timestamp - timestamp % GRANULARITY


def _uuid4(rng: random.Random) -> str:
    # The same distribution as fake.uuid4, built from the hex digits directly: generation
    # of 100,000 sessions draws half a million of these, and uuid.UUID is the slow part.
    h = f"{rng.getrandbits(128):032x}"
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"
