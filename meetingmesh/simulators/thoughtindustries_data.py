"""The seeded data set behind the Thought Industries simulator: courses, locations, users, meetings.

Everything derives from ``rng_for(seed, "thoughtindustries")`` and ``clock.now()``. Meetings
reference their course, location and attendees by id, so courses and users are shared between
meetings exactly as in a real instance; the app joins them when it renders a meeting.

Shape of the generated world (see the simulator's module docstring for the API manual):

- ``max(3, size // 10)`` courses. Course popularity is skewed (a few large courses, a long tail),
  every course has at least one meeting when ``size`` allows it. The first course is the
  documents' example: id ``00000000-0000-0000-0000-000000000000``, slug ``example-slug``,
  status ``draft``, kind ``microCourse``, createdAt/updatedAt ``2024-01-01T00:00:00.000Z``.
- Each course has a window (courseStartDate..courseEndDate); its meetings start inside that
  window clipped to now -180..+180 days, on 15-minute boundaries, lasting 30 minutes to 3 hours.
- A course is online, in person or blended. Online meetings have ``locationId``/``location`` null,
  a ``joinUrl`` and the course's ``webinarTimeZone``; in-person meetings have a location, a null
  ``joinUrl`` and the location's time zone.
- Each meeting has 0..8 attendees (about 15% have none), drawn from ``max(12, size // 4)`` users.
"""

from __future__ import annotations

import bisect
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, TypeVar

import orjson

from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.fake import FIRST_NAMES, LAST_NAMES, TIME_ZONES, email, rng_for

PROVIDER = "thoughtindustries"
#: The documents' example values that every data set carries verbatim.
EXAMPLE_COURSE_ID = "00000000-0000-0000-0000-000000000000"
EXAMPLE_SLUG = "example-slug"
EXAMPLE_STATUS = "draft"
EXAMPLE_TIMESTAMP = "2024-01-01T00:00:00.000Z"
#: Where relative links (avatars, course pages) of the simulated instance point.
INSTANCE_URL = "https://example.thoughtindustries.com"

_DEFAULT_CLOCK = Clock()
_T = TypeVar("_T")
_DAY_MINUTES = 24 * 60
_SLOT_MINUTES = 15
_HORIZON_DAYS = 180
# Bits that make 128 random bits a version-4, RFC 4122 variant UUID (as uuid.UUID(version=4)).
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID_SET = (0x8000 << 48) | (0x4000 << 64)

# (city, state, zip code, country, time zone, streets)
_CITIES: tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...] = (
    ("New York", "NY", "10001", "US", "America/New_York", ("Broadway", "W 34th St", "7th Ave")),
    ("Boston", "MA", "02110", "US", "America/New_York", ("Congress St", "Summer St")),
    ("Chicago", "IL", "60601", "US", "America/Chicago", ("N Michigan Ave", "W Wacker Dr")),
    ("Denver", "CO", "80202", "US", "America/Denver", ("17th St", "Larimer St")),
    ("San Francisco", "CA", "94105", "US", "America/Los_Angeles", ("Market St", "Howard St")),
    ("London", "England", "EC2A 4NE", "GB", "Europe/London", ("Curtain Rd", "Old St")),
    ("Berlin", "Berlin", "10115", "DE", "Europe/Berlin", ("Invalidenstrasse", "Torstrasse")),
    ("Tokyo", "Tokyo", "100-0005", "JP", "Asia/Tokyo", ("Marunouchi", "Otemachi")),
    ("Sydney", "NSW", "2000", "AU", "Australia/Sydney", ("George St", "Pitt St")),
)
_VENUES = ("Learning Center", "Training Hub", "Conference Center", "Academy", "Campus")
_ROOMS = ("Room 101", "Room 204", "Suite 4B", "Hall A", "Boardroom", "Lab 3", "Studio 2")
_SUBJECTS = (
    "Data Privacy",
    "Negotiation",
    "Project Management",
    "Customer Success",
    "Sales Enablement",
    "Workplace Safety",
    "Leadership",
    "Cloud Security",
    "Financial Literacy",
    "Product Analytics",
    "Public Speaking",
    "Compliance",
    "Onboarding",
    "Design Thinking",
    "Agile Delivery",
)
_LEVELS = ("Foundations of", "Advanced", "Practical", "Introduction to", "Essentials of", "Applied")
_PHRASES = ("Live Session", "Workshop", "Office Hours", "Q&A", "Review", "Lab")
_DURATIONS_MIN = (30, 45, 60, 60, 60, 90, 120, 180)
_ONLINE_INFO = (
    "The join link opens 10 minutes before the start.",
    "Please join from a desktop browser and test your audio first.",
    "Have the course workbook open; we will work through it together.",
    "The session is recorded and posted to the course afterwards.",
)
_IN_PERSON_INFO = (
    "Check in at the front desk with a photo ID.",
    "Parking is available in the adjacent garage.",
    "Bring a laptop; lunch is provided.",
    "Doors open 15 minutes before the start.",
)
_ROLES = ("learner",) * 8 + ("manager", "admin")
_LANGS = ("en",) * 6 + ("es", "fr", "de", "ja")
_CURRENCIES = {"US": "USD", "GB": "GBP", "DE": "EUR", "JP": "JPY", "AU": "AUD"}


@dataclass(frozen=True, slots=True)
class Location:
    """A physical venue where in-person meetings take place."""

    id: str
    name: str
    room: str
    address1: str
    address2: str | None
    city: str
    state: str
    zip_code: str
    country: str
    time_zone: str

    def as_json(self) -> dict[str, Any]:
        """The documented Location object."""
        return {
            "id": self.id,
            "name": self.name,
            "room": self.room,
            "address1": self.address1,
            "address2": self.address2,
            "city": self.city,
            "state": self.state,
            "zipCode": self.zip_code,
            "country": self.country,
            "timeZone": self.time_zone,
        }


@dataclass(frozen=True, slots=True)
class User:
    """A learner (or manager, admin) who may attend meetings."""

    id: str
    email: str
    first_name: str
    last_name: str
    asset: str | None
    role_key: str
    bio: str | None
    two_factor_enabled: bool
    city: str
    state: str
    country: str
    lang: str
    preferred_currency: str
    disabled: bool
    must_verify_email: bool
    completed_courses_count: int
    started_courses_count: int
    certificates_count: int
    last_active_at: str
    created_at: str
    updated_at: str

    def as_json(self) -> dict[str, Any]:
        """The documented User object, limited to its simple scalar fields."""
        return {
            "id": self.id,
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "name": f"{self.first_name} {self.last_name}",
            "abbreviatedName": f"{self.first_name} {self.last_name[0]}.",
            "firstInitial": self.first_name[0],
            "lastInitial": self.last_name[0],
            "asset": self.asset,
            "roleKey": self.role_key,
            "bio": self.bio,
            "twoFactorEnabled": self.two_factor_enabled,
            "city": self.city,
            "state": self.state,
            "country": self.country,
            "lang": self.lang,
            "preferredCurrency": self.preferred_currency,
            "disabled": self.disabled,
            "mustVerifyEmail": self.must_verify_email,
            "completedCoursesCount": self.completed_courses_count,
            "startedCoursesCount": self.started_courses_count,
            "certificatesCount": self.certificates_count,
            "lastActiveAt": self.last_active_at,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Course:
    """A course that owns meetings; ``delivery`` decides where its meetings happen."""

    id: str
    created_at: str
    updated_at: str
    slug: str
    status: str
    title: str
    kind: str
    delivery: str  # "online" | "inPerson" | "blended"; not an API field
    course_start_date: str
    course_end_date: str
    enrollment_start_date: str
    enrollment_end_date: str
    publish_date: str | None
    seats_limit: int | None
    seats_used_count: int
    waitlist_count: int
    waitlisting_enabled: bool
    purchasable: bool
    taxable: bool
    price_in_cents: int
    suggested_retail_price_in_cents: int
    alternative_pricing_type: str | None
    access_days: int | None
    sku: str
    instructor_names: tuple[str, ...]  # not an API field: the meetings' instructors
    instructor_emails: tuple[str, ...]
    webinar_time_zone: str
    home_location_id: str | None  # not an API field: where in-person meetings usually are
    discussions_enabled: bool
    show_progress: bool

    def as_json(self) -> dict[str, Any]:
        """The documented Course object (a subset of its scalar fields, no nested meetings)."""
        seats_limit_met = self.seats_limit is not None and self.seats_used_count >= self.seats_limit
        return {
            "id": self.id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "slug": self.slug,
            "status": self.status,
            "title": self.title,
            "kind": self.kind,
            "sessionIsTitled": True,
            "courseStartDate": self.course_start_date,
            "courseEndDate": self.course_end_date,
            "enrollmentStartDate": self.enrollment_start_date,
            "enrollmentEndDate": self.enrollment_end_date,
            "publishDate": self.publish_date,
            "isActive": self.status == "published",
            "seatsLimit": self.seats_limit,
            "seatsUsedCount": self.seats_used_count,
            "seatsLimitMet": seats_limit_met,
            "waitlistCount": self.waitlist_count,
            "waitlistingEnabled": self.waitlisting_enabled,
            "waitlistingTriggered": self.waitlisting_enabled and seats_limit_met,
            "purchasable": self.purchasable,
            "taxable": self.taxable,
            "freeWithRegistration": self.price_in_cents == 0,
            "priceInCents": self.price_in_cents,
            "suggestedRetailPriceInCents": self.suggested_retail_price_in_cents,
            "alternativePricingType": self.alternative_pricing_type,
            "accessDays": self.access_days,
            "sku": self.sku,
            "instructorAccessEnabled": bool(self.instructor_emails),
            "instructorEmails": list(self.instructor_emails),
            "webinarTimeZone": self.webinar_time_zone,
            "meetingsOverviewEnabled": True,
            "discussionsEnabled": self.discussions_enabled,
            "showProgress": self.show_progress,
            "displayMap": self.delivery != "online",
            "isChild": False,
            "hasChildren": False,
            "customFields": {},
        }


@dataclass(frozen=True, slots=True)
class Meeting:
    """One meeting of a course; course, location and attendees are referenced by id."""

    id: str
    title: str
    course_id: str
    location_id: str | None
    join_url: str | None
    attendee_info: str | None
    instructors: tuple[str, ...]
    start_date: str
    end_date: str
    time_zone: str
    attendee_ids: tuple[str, ...]


@dataclass(frozen=True)
class ThoughtIndustriesData:
    """The whole data set; ``meetings`` is sorted by (startDate, id), the API's order."""

    courses: tuple[Course, ...]
    locations: tuple[Location, ...]
    users: tuple[User, ...]
    meetings: tuple[Meeting, ...]

    @classmethod
    def generate(
        cls, *, seed: int = 0, size: int = 200, clock: Clock = _DEFAULT_CLOCK
    ) -> ThoughtIndustriesData:
        """Generate ``size`` meetings deterministically from ``seed`` and ``clock.now()``."""
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        draw = _Draw(rng_for(seed, PROVIDER))
        # Whole hours keep a live clock's data set stable within the hour, and times round.
        now = clock.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
        locations = _locations(draw, max(8, min(400, size // 250)))
        users = _users(draw, max(12, size // 4), now)
        courses = _courses(draw, max(3, size // 10), now, locations)
        meetings = _meetings(draw, size, now, courses, locations, users)
        return cls(tuple(courses), tuple(locations), tuple(users), meetings)

    def dump(self) -> bytes:
        """Canonical bytes of the whole data set: same seed, size and clock give the same bytes."""
        return orjson.dumps(
            {
                "courses": self.courses,
                "locations": self.locations,
                "users": self.users,
                "meetings": self.meetings,
            },
            option=orjson.OPT_SORT_KEYS,
        )


class _Draw:
    """Fast draws from one seeded generator.

    ``random()``-based picks are several times cheaper than ``randrange``/``choice``/``sample``,
    which matters at 100,000 meetings; the results are just as deterministic.
    """

    def __init__(self, rng: random.Random) -> None:
        self._random = rng.random
        self._bits = rng.getrandbits
        #: A float in [0, 1); the generator's own method, for hot loops.
        self.fraction: Callable[[], float] = rng.random

    def below(self, n: int) -> int:
        """An integer in [0, n)."""
        return int(self._random() * n)

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high], both ends included."""
        return low + int(self._random() * (high - low + 1))

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return self._random() < p

    def pick(self, options: Sequence[_T]) -> _T:
        """One element of a non-empty sequence."""
        return options[int(self._random() * len(options))]

    def distinct(self, n: int, k: int) -> list[int]:
        """``min(k, n)`` distinct integers in [0, n), in draw order."""
        k = min(k, n)
        chosen: list[int] = []
        while len(chosen) < k:
            value = int(self._random() * n)
            if value not in chosen:
                chosen.append(value)
        return chosen

    def uuid(self) -> str:
        """A version-4 UUID string, formatted like ``str(uuid.uuid4())``."""
        h = f"{(self._bits(128) & _UUID_CLEAR) | _UUID_SET:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def person(self) -> tuple[str, str]:
        """A (first name, last name) pair."""
        return self.pick(FIRST_NAMES), self.pick(LAST_NAMES)


def _iso(instant: datetime) -> str:
    # Naive UTC in, "2026-05-22T12:00:00.000Z" out (the documents' format).
    return instant.isoformat(timespec="milliseconds") + "Z"


def _locations(draw: _Draw, count: int) -> list[Location]:
    locations = []
    for i in range(count):
        city, state, zip_code, country, tz, streets = _CITIES[i % len(_CITIES)]
        locations.append(
            Location(
                id=draw.uuid(),
                name=f"{city} {draw.pick(_VENUES)}",
                room=draw.pick(_ROOMS),
                address1=f"{draw.between(1, 999)} {draw.pick(streets)}",
                address2=f"Floor {draw.between(2, 30)}" if draw.chance(0.6) else None,
                city=city,
                state=state,
                zip_code=zip_code,
                country=country,
                time_zone=tz,
            )
        )
    return locations


def _users(draw: _Draw, count: int, now: datetime) -> list[User]:
    users = []
    for n in range(count):
        first, last = draw.person()
        city, state, _zip, country, _tz, _streets = draw.pick(_CITIES)
        user_id = draw.uuid()
        created = now - timedelta(seconds=draw.between(200 * 86_400, 1500 * 86_400))
        updated = created + timedelta(seconds=draw.below(int((now - created).total_seconds())))
        started = draw.between(0, 12)
        completed = draw.between(0, started)
        has_avatar, has_bio = draw.chance(0.7), draw.chance(0.4)
        users.append(
            User(
                id=user_id,
                email=email(first, last, n),
                first_name=first,
                last_name=last,
                asset=f"{INSTANCE_URL}/assets/avatars/{user_id}.png" if has_avatar else None,
                role_key=draw.pick(_ROLES),
                bio=f"{first} works in {draw.pick(_SUBJECTS).lower()}." if has_bio else None,
                two_factor_enabled=draw.chance(0.3),
                city=city,
                state=state,
                country=country,
                lang=draw.pick(_LANGS),
                preferred_currency=_CURRENCIES[country],
                disabled=draw.chance(0.02),
                must_verify_email=draw.chance(0.05),
                completed_courses_count=completed,
                started_courses_count=started,
                certificates_count=draw.between(0, completed),
                last_active_at=_iso(now - timedelta(seconds=draw.below(90 * 86_400))),
                created_at=_iso(created),
                updated_at=_iso(updated),
            )
        )
    return users


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _courses(draw: _Draw, count: int, now: datetime, locations: Sequence[Location]) -> list[Course]:
    instructors = [draw.person() for _ in range(max(4, count // 2))]
    seen_slugs: dict[str, int] = {}
    courses = []
    for i in range(count):
        title = f"{draw.pick(_LEVELS)} {draw.pick(_SUBJECTS)}"
        base_slug = _slugify(title)
        seen_slugs[base_slug] = seen_slugs.get(base_slug, 0) + 1
        slug = base_slug if seen_slugs[base_slug] == 1 else f"{base_slug}-{seen_slugs[base_slug]}"
        # Windows start -200..+150 days from now and last 30..180 days, so every window
        # overlaps the -180..+180 day range in which meetings are placed.
        start = now + timedelta(days=draw.between(-200, 150))
        end = start + timedelta(days=draw.between(30, 180))
        created = start - timedelta(days=draw.between(30, 365))
        updated = created + timedelta(seconds=draw.below(int((now - created).total_seconds())))
        status = draw.pick(("published",) * 10 + ("draft", "draft", "archived"))
        delivery = draw.pick(("online", "online", "inPerson", "blended"))
        kind = {"online": "webinarCourse", "inPerson": "inPersonEventCourse"}.get(
            delivery, "course"
        )
        chosen = draw.distinct(len(instructors), draw.between(1, 3))
        price = draw.pick((0, 0, 4900, 9900, 19900, 49900))
        seats_limit = draw.pick((None, 20, 30, 50, 100))
        seats_used = draw.between(0, seats_limit or 400)
        if i == 0:
            # The documents' example course, verbatim where the example has real values.
            status, slug, kind, delivery = EXAMPLE_STATUS, EXAMPLE_SLUG, "microCourse", "blended"
        courses.append(
            Course(
                id=EXAMPLE_COURSE_ID if i == 0 else draw.uuid(),
                created_at=EXAMPLE_TIMESTAMP if i == 0 else _iso(created),
                updated_at=EXAMPLE_TIMESTAMP if i == 0 else _iso(updated),
                slug=slug,
                status=status,
                title="Example Course" if i == 0 else title,
                kind=kind,
                delivery=delivery,
                course_start_date=_iso(start),
                course_end_date=_iso(end),
                enrollment_start_date=_iso(start - timedelta(days=draw.between(14, 60))),
                enrollment_end_date=_iso(end - timedelta(days=draw.between(0, 14))),
                publish_date=None if status == "draft" else _iso(created + timedelta(days=7)),
                seats_limit=seats_limit,
                seats_used_count=seats_used,
                waitlist_count=draw.between(0, 15) if seats_limit else 0,
                waitlisting_enabled=seats_limit is not None,
                purchasable=price > 0,
                taxable=price > 0 and draw.chance(0.5),
                price_in_cents=price,
                suggested_retail_price_in_cents=price + draw.pick((0, 0, 5000)) if price else 0,
                alternative_pricing_type="membership" if i == 0 or price == 0 else None,
                access_days=draw.pick((None, 30, 90, 365)),
                sku=f"TI-{i:05d}",
                instructor_names=tuple(" ".join(instructors[n]) for n in chosen),
                instructor_emails=tuple(
                    email(*instructors[n], n, "instructors.example.com") for n in chosen
                ),
                webinar_time_zone=draw.pick(TIME_ZONES),
                home_location_id=None if delivery == "online" else draw.pick(locations).id,
                discussions_enabled=draw.chance(0.6),
                show_progress=draw.chance(0.8),
            )
        )
    return courses


def _join_url(draw: _Draw) -> str:
    kind = draw.below(3)
    if kind == 0:
        return f"https://zoom.us/j/{draw.between(10**9, 10**11 - 1)}"
    if kind == 1:
        letters = "abcdefghijklmnopqrstuvwxyz"
        parts = ("".join(draw.pick(letters) for _ in range(n)) for n in (3, 4, 3))
        return "https://meet.google.com/" + "-".join(parts)
    return f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{draw.uuid().replace('-', '')}"


def _meetings(
    draw: _Draw,
    size: int,
    now: datetime,
    courses: Sequence[Course],
    locations: Sequence[Location],
    users: Sequence[User],
) -> tuple[Meeting, ...]:
    location_by_id = {location.id: location for location in locations}
    # Times are whole minutes after ``origin`` (now - 180 days); formatting each distinct minute
    # once keeps 100,000 meetings cheap, since starts fall on 15-minute slots.
    origin = now - timedelta(days=_HORIZON_DAYS)
    horizon = 2 * _HORIZON_DAYS * _DAY_MINUTES
    iso_cache: dict[int, str] = {}

    def iso_at(minute: int) -> str:
        text = iso_cache.get(minute)
        if text is None:
            text = iso_cache[minute] = _iso(origin + timedelta(minutes=minute))
        return text

    windows = []  # per course: (first slot, slot count), clipped to the -180..+180 day horizon
    for course in courses:
        start = _minutes_after(origin, course.course_start_date)
        end = _minutes_after(origin, course.course_end_date)
        first, last = max(start, 0) // _SLOT_MINUTES, min(end, horizon) // _SLOT_MINUTES
        windows.append((first, max(1, last - first)))
    # Skewed popularity (weight ~ 1/rank^0.8, ranks shuffled) gives a few big courses whose
    # meetings span several pages and a long tail; the first len(courses) meetings give every
    # course at least one meeting.
    ranks = [draw.below(1 << 30) for _ in courses]
    order = sorted(range(len(courses)), key=lambda c: (ranks[c], c))
    cumulative, total = [], 0.0
    for rank in range(1, len(courses) + 1):
        total += 1 / rank**0.8
        cumulative.append(total)
    assigned = list(range(min(size, len(courses))))
    last_rank = len(courses) - 1
    for _ in range(size - len(assigned)):
        rank = bisect.bisect_right(cumulative, draw.fraction() * total)
        assigned.append(order[min(rank, last_rank)])
    # The hot loop calls the generator directly: at 100,000 meetings every call layer counts.
    rand = draw.fraction
    user_count = len(users)
    drafts = []
    for index in assigned:
        course = courses[index]
        first, slots = windows[index]
        start = (first + int(rand() * slots)) * _SLOT_MINUTES
        end = start + _DURATIONS_MIN[int(rand() * len(_DURATIONS_MIN))]
        delivery = course.delivery
        in_person = delivery == "inPerson" or (delivery == "blended" and rand() < 0.5)
        location: Location | None = None
        if in_person:
            home = course.home_location_id
            location = location_by_id[home] if home and rand() < 0.8 else draw.pick(locations)
        info_pool = _IN_PERSON_INFO if in_person else _ONLINE_INFO
        attendee_count = 0 if rand() < 0.15 else 1 + int(rand() * 8)
        names = course.instructor_names
        host_count = 1 + int(rand() * len(names))
        drafts.append(
            (
                start,
                draw.uuid(),
                course,
                location.id if location else None,
                None if in_person else _join_url(draw),
                info_pool[int(rand() * len(info_pool))] if rand() < 0.9 else None,
                tuple(names[n] for n in draw.distinct(len(names), host_count)),
                end,
                location.time_zone if location else course.webinar_time_zone,
                tuple(users[n].id for n in draw.distinct(user_count, attendee_count)),
            )
        )
    # Titles are numbered per course in time order, so they are built after sorting.
    # Two stable single-key sorts give (startDate, id) order faster than one tuple-keyed sort.
    drafts.sort(key=itemgetter(1))
    drafts.sort(key=itemgetter(0))
    session_numbers: dict[str, int] = {}
    meetings = []
    for (
        start,
        meeting_id,
        course,
        location_id,
        join_url,
        info,
        hosts,
        end,
        tz,
        who,
    ) in drafts:
        number = session_numbers[course.id] = session_numbers.get(course.id, 0) + 1
        phrase = "Kickoff" if number == 1 else _PHRASES[(number - 2) % len(_PHRASES)]
        meetings.append(
            Meeting(
                id=meeting_id,
                title=f"{course.title}: {phrase} (session {number})",
                course_id=course.id,
                location_id=location_id,
                join_url=join_url,
                attendee_info=info,
                instructors=hosts,
                start_date=iso_at(start),
                end_date=iso_at(end),
                time_zone=tz,
                attendee_ids=who,
            )
        )
    return tuple(meetings)


def _minutes_after(origin: datetime, iso: str) -> int:
    instant = datetime.fromisoformat(iso.removesuffix("Z"))
    return int((instant - origin).total_seconds()) // 60
