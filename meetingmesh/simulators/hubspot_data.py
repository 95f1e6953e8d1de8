"""Seeded data set of the HubSpot scheduler simulator: users, meeting links, busy times.

The data is a snapshot taken at ``clock.now()``. Choices the documents leave open:

- ``size`` drives the links: ``max(12, size // 10)`` of them. There are
  ``max(4, links // 4)`` users and every user organizes exactly one default link (a
  PERSONAL_LINK whose slug and name are the user's handle, like the example
  ``menelson``); the other links are GROUP_CALENDAR (~42 %), ROUND_ROBIN_CALENDAR
  (~42 %) or further PERSONAL_LINKs, and the first two are one of each, so every type
  exists at the minimum size. Group links have 2-4 members, round robins 2-5, the
  organizer first.
- Ids (links and users) are numeric strings, as the SDK types them. Link ids ascend
  with ``createdAt`` (within the three years before now); ``updatedAt`` lies between
  ``createdAt`` and now. Timestamps are ISO 8601 UTC with milliseconds.
- Users have a calendar provider (GOOGLE, OFFICE365, EXCHANGE, or UNKNOWN = offline:
  no busy times) and a time zone from ``fake.TIME_ZONES``; a link's working hours are
  read in its organizer's time zone. Online users have 0-2 busy blocks (30 min to 2 h,
  on quarter hours, 08:00-20:00 local) on each weekday from a week before now to nine
  weeks after it, beyond the longest advertising window (8 weeks).
- Link settings: durations from 15, 30, 45, 60 min (in ms), increments
  TEN/FIFTEEN/THIRTY/SIXTY/MEETING_DURATION, 2-8 weeks advertised, buffers 0-15 min,
  working hours of 7-9 h starting 08:00-10:00 on Mon-Fri (some Mon-Thu), optional guests
  (up to 1-10), an optional web conference (Zoom, Google Meet, Teams) or room, and some
  custom form questions (phone, a required company, a required select of topics).
- The example: link ``1530581`` ``menelson`` of user ``1234567`` (Megan Nelson,
  GOOGLE, America/New_York), 30 and 60 min, every 15 min, 8 weeks, 09:00-17:00 Mon-Fri,
  up to 2 guests, Google Meet. Everything not in the documents (id, profile, settings)
  is invented and fixed.

Team links: the last two generated links are replaced (same ids and times) by a
personal link ``<handle>/intro`` and the round robin ``sales/round-robin`` (organizer
plus up to three users). Both ask the required custom questions (company, a select of
topics) and the round robin also requires legal consent (one checkbox,
``sim-meeting-communications``). ``menelson`` stays as documented: the standard
questions only, no consent.

Bookings made through the API are not part of the data set (they live in the app), so
``dump()`` never changes after generation. See ``meetingmesh.simulators.hubspot`` for
the HTTP contract.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.fake import TIME_ZONES, email, iso_ms, person, rng_for

PROVIDER = "hubspot"
LINK_TYPES = ("PERSONAL_LINK", "GROUP_CALENDAR", "ROUND_ROBIN_CALENDAR")
#: The ``startTimeIncrementMinutes`` words of the HubSpot SDK, in minutes.
INCREMENT_MINUTES: dict[str, int] = {
    "FIVE": 5,
    "TEN": 10,
    "FIFTEEN": 15,
    "TWENTY": 20,
    "THIRTY": 30,
    "FORTY_FIVE": 45,
    "SIXTY": 60,
    "NINETY": 90,
    "ONE_HUNDRED_TWENTY": 120,
}
#: Advertised start times step by the meeting's own length with this word.
MEETING_DURATION = "MEETING_DURATION"
WEEKDAY_NAMES = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
MINUTE_MS = 60_000
WEEK_MS = 7 * 24 * 60 * MINUTE_MS
MEETINGS_HOST = "https://meetings.hubspot.com/"
#: Busy blocks reach this far past now: beyond every link's advertising window.
MAX_WEEKS_TO_ADVERTISE = 8
_BUSY_DAYS_BEFORE_NOW = 7
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The default simulated clock (a module constant: defaults are evaluated once).
DEFAULT_CLOCK = Clock()
_QUARTER_MS = 15 * 60_000
_BLOCKS_PER_DAY = (0, 1, 1, 2)
#: Busy block lengths in quarter hours (30 min to 2 h).
_BLOCK_QUARTERS = (2, 3, 4, 6, 8)

# The documents' example link, verbatim at every size (its id and the organizer's
# profile are not in the documents: they are invented and fixed here).
EXAMPLE_SLUG = "menelson"
EXAMPLE_USER_ID = "1234567"
EXAMPLE_LINK_ID = "1530581"
EXAMPLE_TIME_ZONE = "America/New_York"

_PROVIDER_WEIGHTS = tuple(accumulate((5, 4, 1, 1)))
_PROVIDERS = ("GOOGLE", "OFFICE365", "EXCHANGE", "UNKNOWN")
_DURATION_SETS: tuple[tuple[int, ...], ...] = (
    (30,),
    (30,),
    (15, 30),
    (30, 60),
    (15, 30, 60),
    (45,),
    (60,),
)
_INCREMENTS = (
    "FIFTEEN",
    "FIFTEEN",
    "FIFTEEN",
    "THIRTY",
    "THIRTY",
    "SIXTY",
    "TEN",
    MEETING_DURATION,
)
_CONFERENCES: tuple[tuple[str | None, str | None], ...] = (
    (None, None),
    ("ZOOM", "Zoom"),
    ("GOOGLE_MEET", "Google Meet"),
    ("MICROSOFT_TEAMS", "Microsoft Teams"),
)
_TOPICS: dict[str, tuple[str, ...]] = {
    "PERSONAL_LINK": ("Intro call", "Coffee chat", "Office hours", "Quick sync", "Discovery call"),
    "GROUP_CALENDAR": ("Team demo", "Panel interview", "Onboarding session", "Quarterly review"),
    "ROUND_ROBIN_CALENDAR": (
        "Sales consultation",
        "Support call",
        "Book a demo",
        "Pricing questions",
    ),
}


@dataclass(frozen=True, slots=True)
class FormField:
    """A question on a link's booking form (``customParams.formFields[]``)."""

    name: str
    label: str
    field_type: str
    type: str
    is_custom: bool
    is_required: bool
    options: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The field as HubSpot's ``ExternalLinkFormField``."""
        return {
            "name": self.name,
            "label": self.label,
            "fieldType": self.field_type,
            "type": self.type,
            "isCustom": self.is_custom,
            "isRequired": self.is_required,
            "options": [
                {
                    "label": option,
                    "value": option,
                    "description": "",
                    "displayOrder": order,
                    "doubleData": 0,
                    "hidden": False,
                    "readOnly": False,
                }
                for order, option in enumerate(self.options)
            ],
        }


#: The three questions every HubSpot booking form asks; the body's top-level fields answer them.
STANDARD_FIELDS = (
    FormField("firstName", "First name", "text", "string", False, True),
    FormField("lastName", "Last name", "text", "string", False, True),
    FormField("email", "Email", "text", "string", False, True),
)
_CUSTOM_FIELDS = (
    FormField("phone", "Phone number", "phonenumber", "string", True, False),
    FormField("company", "Company name", "text", "string", True, True),
    FormField(
        "meeting_topic",
        "What would you like to discuss?",
        "select",
        "enumeration",
        True,
        True,
        ("Pricing", "Product demo", "Support", "Other"),
    ),
)


@dataclass(frozen=True, slots=True)
class HubSpotUser:
    """A HubSpot user with a connected (or offline) calendar."""

    user_id: str
    meetings_user_id: str
    first_name: str
    last_name: str
    email: str
    calendar_provider: str
    time_zone: str
    #: Sorted, non-overlapping ``(start, end)`` epoch-millisecond pairs.
    busy_times: tuple[tuple[int, int], ...]

    @property
    def full_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"

    @property
    def is_offline(self) -> bool:
        """Without a connected calendar HubSpot knows no busy times and creates no events."""
        return self.calendar_provider == "UNKNOWN"

    def meetings_user(self) -> dict[str, Any]:
        """The user as HubSpot's ``ExternalMeetingsUser``."""
        return {
            "id": self.meetings_user_id,
            "userId": self.user_id,
            "calendarProvider": self.calendar_provider,
            "isSalesStarter": False,
            "userProfile": {
                "email": self.email,
                "firstName": self.first_name,
                "lastName": self.last_name,
                "fullName": self.full_name,
            },
        }

    def to_json(self) -> dict[str, Any]:
        """The whole record, for ``dump()``."""
        return {
            **self.meetings_user(),
            "timeZone": self.time_zone,
            "busyTimes": [{"start": s, "end": e} for s, e in self.busy_times],
        }


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """How a link offers times and what its booking form asks (``customParams``)."""

    durations_ms: tuple[int, ...]
    increment: str
    weeks_to_advertise: int
    buffer_ms: int
    can_add_guests: bool
    max_guest_count: int
    web_conference: str | None
    location: str | None
    #: Working hours as minutes after local midnight, in the organizer's time zone.
    work_start_minute: int
    work_end_minute: int
    #: ``date.weekday()`` numbers (Monday = 0) on which the link offers times.
    work_days: tuple[int, ...]
    form_fields: tuple[FormField, ...]
    owner_prioritized: bool
    #: The communication consent checkboxes a booking must tick (empty: no legal consent).
    consent_checkboxes: tuple[str, ...] = ()
    locale: str = "en-us"
    language: str = "en"

    def increment_ms(self, duration_ms: int) -> int:
        """The step between advertised start times for meetings of ``duration_ms``."""
        if self.increment == MEETING_DURATION:
            return duration_ms
        return INCREMENT_MINUTES[self.increment] * MINUTE_MS

    def to_json(self) -> dict[str, Any]:
        """The settings as HubSpot's ``ExternalMeetingsLinkSettings``."""
        window = {"start": self.work_start_minute, "end": self.work_end_minute}
        params: dict[str, Any] = {
            "availability": {WEEKDAY_NAMES[day]: dict(window) for day in self.work_days},
            "durations": list(self.durations_ms),
            "formFields": [f.to_json() for f in self.form_fields],
            "legalConsentEnabled": bool(self.consent_checkboxes),
            "meetingBufferTime": self.buffer_ms,
            "ownerPrioritized": self.owner_prioritized,
            "startTimeIncrementMinutes": self.increment,
            "weeksToAdvertise": self.weeks_to_advertise,
            "guestSettings": {
                "canAddGuests": self.can_add_guests,
                "maxGuestCount": self.max_guest_count,
            },
            "language": self.language,
            "locale": self.locale,
        }
        if self.location is not None:
            params["location"] = self.location
        if self.consent_checkboxes:
            params["legalConsentOptions"] = _consent_options(self.consent_checkboxes)
        return params


def _consent_options(checkboxes: tuple[str, ...]) -> dict[str, Any]:
    """HubSpot's ``ExternalLegalConsentOptions`` with one required checkbox per id."""
    return {
        "communicationConsentCheckboxes": [
            {"communicationTypeId": c, "label": CONSENT_LABELS.get(c, c), "required": True}
            for c in checkboxes
        ],
        "communicationConsentText": "Example Co would like to contact you about this meeting.",
        "isLegitimateInterest": False,
        "legitimateInterestSubscriptionTypes": [],
        "privacyPolicyText": "See our privacy policy at https://example.com/privacy.",
        "processingConsentCheckboxLabel": "I agree to allow Example Co to store my data.",
        "processingConsentFooterText": "You can unsubscribe at any time.",
        "processingConsentText": "Example Co needs the details you give to book this meeting.",
        "processingConsentType": "IMPLICIT",
    }


#: Communication types a consent checkbox can name, with their labels.
CONSENT_LABELS = {"sim-meeting-communications": "I agree to receive meeting communications."}
#: The team links (slugs with "/") replace the last generated links, keeping their ids.
TEAM_ROUND_ROBIN_SLUG = "sales/round-robin"


@dataclass(frozen=True, slots=True)
class MeetingLink:
    """A scheduling page ("meeting link") and its settings."""

    id: str
    slug: str
    name: str
    type: str
    organizer_user_id: str
    default_link: bool
    member_user_ids: tuple[str, ...]
    created_at: str
    updated_at: str
    #: The organizer's time zone: working hours are read in it.
    time_zone: str
    settings: LinkSettings

    @property
    def link(self) -> str:
        """The public booking page URL."""
        return MEETINGS_HOST + self.slug

    def metadata(self) -> dict[str, Any]:
        """The link as HubSpot's ``ExternalLinkMetadata`` (one list result)."""
        return {
            "id": self.id,
            "slug": self.slug,
            "link": self.link,
            "name": self.name,
            "type": self.type,
            "organizerUserId": self.organizer_user_id,
            "defaultLink": self.default_link,
            "userIdsOfLinkMembers": list(self.member_user_ids),
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }

    def to_json(self) -> dict[str, Any]:
        """The whole record, for ``dump()``."""
        return {
            **self.metadata(),
            "timeZone": self.time_zone,
            "customParams": self.settings.to_json(),
        }


@dataclass
class HubSpotData:
    """The whole HubSpot data set, with the indexes the simulator answers from."""

    users: dict[str, HubSpotUser]
    #: Sorted by numeric id: the list order of ``GET meeting-links``.
    links: list[MeetingLink]
    by_slug: dict[str, MeetingLink] = field(init=False, repr=False, compare=False)
    #: Positions in ``links`` (ascending) per organizer and per type.
    by_organizer: dict[str, list[int]] = field(init=False, repr=False, compare=False)
    by_type: dict[str, list[int]] = field(init=False, repr=False, compare=False)
    id_keys: list[int] = field(init=False, repr=False, compare=False)
    lower_names: list[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.links.sort(key=lambda link: int(link.id))
        self.by_slug = {link.slug: link for link in self.links}
        self.by_organizer = {}
        self.by_type = {t: [] for t in LINK_TYPES}
        for position, link in enumerate(self.links):
            self.by_organizer.setdefault(link.organizer_user_id, []).append(position)
            self.by_type[link.type].append(position)
        self.id_keys = [int(link.id) for link in self.links]
        self.lower_names = [link.name.lower() for link in self.links]

    @classmethod
    def generate(
        cls, *, seed: int = 0, size: int = 200, clock: Clock = DEFAULT_CLOCK
    ) -> HubSpotData:
        """Generate ``link_count(size)`` links and their organizers from ``seed`` and now."""
        return _Generator(rng_for(seed, PROVIDER), clock.now(), link_count(size)).run()

    def dump(self) -> bytes:
        """Canonical bytes of the whole data set (same seed, size and clock: same bytes)."""
        return orjson.dumps(
            {
                "users": [user.to_json() for user in self.users.values()],
                "links": [link.to_json() for link in self.links],
            },
            option=orjson.OPT_SORT_KEYS,
        )


def link_count(size: int) -> int:
    """Meeting links in a data set of ``size``: max(12, size // 10)."""
    return max(12, size // 10)


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """A cached time zone by IANA name."""
    return ZoneInfo(name)


def to_ms(instant: datetime) -> int:
    """Epoch milliseconds of an aware datetime, exactly."""
    return (instant - _EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    """An aware UTC datetime from epoch milliseconds."""
    return _EPOCH + timedelta(milliseconds=ms)


def local_ms(day: date, minute: int, tz: ZoneInfo) -> int:
    """Epoch ms of ``minute`` minutes after midnight (wall clock) on ``day`` in ``tz``."""
    hour, minute = divmod(minute, 60)
    if hour >= 24:
        return to_ms(datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(days=1))
    return to_ms(datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz))


def _team_links(
    first: MeetingLink, second: MeetingLink, users: list[HubSpotUser]
) -> list[MeetingLink]:
    """Two links with "/" in their slugs, in the places (and ids) of ``first`` and ``second``.

    A personal link ``<handle>/intro`` that asks a required company and a select, and the
    team round robin ``sales/round-robin`` that also requires legal consent.
    """
    organizer = next(u for u in users if u.user_id == first.organizer_user_id)
    handle = f"{organizer.first_name[:2]}{organizer.last_name}".lower()
    required = STANDARD_FIELDS + _CUSTOM_FIELDS
    personal = replace(
        first,
        slug=f"{handle}/intro",
        name=f"Intro call with {organizer.first_name}",
        type="PERSONAL_LINK",
        member_user_ids=(first.organizer_user_id,),
        settings=replace(first.settings, form_fields=required, owner_prioritized=False),
    )
    members = tuple(dict.fromkeys([second.organizer_user_id, *(u.user_id for u in users[1:4])]))
    team = replace(
        second,
        slug=TEAM_ROUND_ROBIN_SLUG,
        name="Talk to sales",
        type="ROUND_ROBIN_CALENDAR",
        member_user_ids=members,
        settings=replace(
            second.settings,
            form_fields=required,
            consent_checkboxes=tuple(CONSENT_LABELS),
        ),
    )
    return [personal, team]


class _Generator:
    """One generation run: all draws come from one seeded generator, in a fixed order."""

    def __init__(self, rng: random.Random, now: datetime, links: int) -> None:
        self.rng = rng
        self.now = now
        self.now_ms = to_ms(now)
        self.link_total = links
        self.used_slugs: set[str] = {EXAMPLE_SLUG}
        self.used_ids: set[int] = {int(EXAMPLE_USER_ID)}
        self.midnights: dict[str, list[int]] = {}

    def run(self) -> HubSpotData:
        # Every user organizes exactly one default link; a quarter of the links are defaults.
        user_total = max(4, self.link_total // 4)
        users = [self._example_user()]
        users += [self._user(n) for n in range(1, user_total)]
        by_id = {user.user_id: user for user in users}
        created = self._creation_times()
        links = [self._example_link(created[0])]
        for n, user in enumerate(users[1:], start=1):
            links.append(self._default_link(n, user, created[n]))
        for n in range(user_total, self.link_total):
            kind = self._other_type(n - user_total)
            links.append(self._other_link(n, kind, users, created[n]))
        # After every draw of the main generator, so the other links stay as they were.
        links[-2:] = _team_links(links[-2], links[-1], users)
        return HubSpotData(users=by_id, links=links)

    def _creation_times(self) -> list[tuple[str, str]]:
        # Ids ascend with creation time, so list order (by id) is creation order too.
        span = 3 * 365 * 24 * 60 * MINUTE_MS
        first = self.now_ms - span
        starts = sorted(
            first + self.rng.randrange(span - 30 * 1440 * MINUTE_MS) for _ in range(self.link_total)
        )
        times = []
        for start in starts:
            updated = start + self.rng.randrange(self.now_ms - start)
            times.append((iso_ms(from_ms(start)), iso_ms(from_ms(updated))))
        return times

    def _other_type(self, n: int) -> str:
        # The first two non-default links guarantee every type exists even at the minimum size.
        if n < 2:
            return LINK_TYPES[n + 1]
        roll = self.rng.random()
        return "PERSONAL_LINK" if roll < 0.15 else LINK_TYPES[1] if roll < 0.575 else LINK_TYPES[2]

    def _new_user_id(self) -> str:
        while True:
            candidate = self.rng.randrange(1_000_000, 99_999_999)
            if candidate not in self.used_ids:
                self.used_ids.add(candidate)
                return str(candidate)

    def _example_user(self) -> HubSpotUser:
        busy = self._busy_times("GOOGLE", EXAMPLE_TIME_ZONE)
        return HubSpotUser(
            user_id=EXAMPLE_USER_ID,
            meetings_user_id="9876543",
            first_name="Megan",
            last_name="Nelson",
            email="menelson@example.com",
            calendar_provider="GOOGLE",
            time_zone=EXAMPLE_TIME_ZONE,
            busy_times=busy,
        )

    def _user(self, n: int) -> HubSpotUser:
        first, last = person(self.rng)
        provider = self.rng.choices(_PROVIDERS, cum_weights=_PROVIDER_WEIGHTS)[0]
        time_zone = self.rng.choice(TIME_ZONES)
        user_id = self._new_user_id()
        return HubSpotUser(
            user_id=user_id,
            meetings_user_id=str(10_000_000 + n),
            first_name=first,
            last_name=last,
            email=email(first, last, n),
            calendar_provider=provider,
            time_zone=time_zone,
            busy_times=self._busy_times(provider, time_zone),
        )

    def _busy_times(self, provider: str, time_zone: str) -> tuple[tuple[int, int], ...]:
        if provider == "UNKNOWN":
            return ()
        rng = self.rng.random
        busy: list[tuple[int, int]] = []
        for midnight in self._weekday_midnights(time_zone):
            # 0-2 blocks between 08:00 and 18:00 local, on 15-minute boundaries.
            count = _BLOCKS_PER_DAY[int(rng() * len(_BLOCKS_PER_DAY))]
            blocks = sorted(
                (32 + int(rng() * 36), _BLOCK_QUARTERS[int(rng() * len(_BLOCK_QUARTERS))])
                for _ in range(count)
            )
            end_of_previous = -1
            for start, length in blocks:
                if start < end_of_previous:
                    continue
                end_of_previous = start + length
                busy.append(
                    (midnight + start * _QUARTER_MS, midnight + end_of_previous * _QUARTER_MS)
                )
        return tuple(busy)

    def _weekday_midnights(self, time_zone: str) -> list[int]:
        # Epoch ms of local midnight *as the wall clock of midday reads it*, so that
        # midnight + 10 h is 10:00 local even on a daylight-saving change day.
        cached = self.midnights.get(time_zone)
        if cached is None:
            tz = zone(time_zone)
            today = self.now.astimezone(tz).date()
            cached = []
            for offset in range(-_BUSY_DAYS_BEFORE_NOW, 7 * (MAX_WEEKS_TO_ADVERTISE + 1) + 1):
                day = today + timedelta(days=offset)
                if day.weekday() < 5:
                    cached.append(local_ms(day, 12 * 60, tz) - 12 * 60 * MINUTE_MS)
            self.midnights[time_zone] = cached
        return cached

    def _slug(self, base: str) -> str:
        slug, n = base, 1
        while slug in self.used_slugs:
            n += 1
            slug = f"{base}{n}"
        self.used_slugs.add(slug)
        return slug

    def _settings(self, kind: str) -> LinkSettings:
        rng = self.rng
        durations = tuple(minutes * MINUTE_MS for minutes in rng.choice(_DURATION_SETS))
        conference, location = rng.choice(_CONFERENCES)
        if location is None and rng.random() < 0.5:
            location = f"Room {rng.randrange(1, 40)}, 2 Canal Park, Cambridge, MA"
        can_add_guests = rng.random() < 0.7
        custom = tuple(f for f in _CUSTOM_FIELDS if rng.random() < 0.3)
        start = rng.choice((480, 540, 540, 600))
        return LinkSettings(
            durations_ms=durations,
            increment=rng.choice(_INCREMENTS),
            weeks_to_advertise=rng.choice((2, 3, 4, 6, 8)),
            buffer_ms=rng.choice((0, 0, 0, 5, 10, 15)) * MINUTE_MS,
            can_add_guests=can_add_guests,
            max_guest_count=rng.randrange(1, 11) if can_add_guests else 0,
            web_conference=conference,
            location=location,
            work_start_minute=start,
            work_end_minute=start + rng.choice((420, 480, 480, 540)),
            work_days=(0, 1, 2, 3, 4) if rng.random() < 0.85 else (0, 1, 2, 3),
            form_fields=STANDARD_FIELDS + custom,
            owner_prioritized=kind == "ROUND_ROBIN_CALENDAR" and rng.random() < 0.5,
        )

    def _link_id(self, n: int) -> str:
        # Ids grow with n (creation order) with irregular gaps, like real HubSpot ids.
        return str(1_600_000 + n * 100 + self.rng.randrange(100))

    def _example_link(self, created: tuple[str, str]) -> MeetingLink:
        settings = LinkSettings(
            durations_ms=(30 * MINUTE_MS, 60 * MINUTE_MS),
            increment="FIFTEEN",
            weeks_to_advertise=8,
            buffer_ms=0,
            can_add_guests=True,
            max_guest_count=2,
            web_conference="GOOGLE_MEET",
            location="Google Meet",
            work_start_minute=540,
            work_end_minute=1020,
            work_days=(0, 1, 2, 3, 4),
            form_fields=STANDARD_FIELDS,
            owner_prioritized=False,
        )
        return MeetingLink(
            id=EXAMPLE_LINK_ID,
            slug=EXAMPLE_SLUG,
            name=EXAMPLE_SLUG,
            type="PERSONAL_LINK",
            organizer_user_id=EXAMPLE_USER_ID,
            default_link=True,
            member_user_ids=(EXAMPLE_USER_ID,),
            created_at=created[0],
            updated_at=created[1],
            time_zone=EXAMPLE_TIME_ZONE,
            settings=settings,
        )

    def _default_link(self, n: int, user: HubSpotUser, created: tuple[str, str]) -> MeetingLink:
        # Like the example: a default link's slug and name are the user's handle.
        slug = self._slug(f"{user.first_name[:2]}{user.last_name}".lower())
        return MeetingLink(
            id=self._link_id(n),
            slug=slug,
            name=slug,
            type="PERSONAL_LINK",
            organizer_user_id=user.user_id,
            default_link=True,
            member_user_ids=(user.user_id,),
            created_at=created[0],
            updated_at=created[1],
            time_zone=user.time_zone,
            settings=self._settings("PERSONAL_LINK"),
        )

    def _other_link(
        self, n: int, kind: str, users: list[HubSpotUser], created: tuple[str, str]
    ) -> MeetingLink:
        organizer = self.rng.choice(users)
        members = [organizer.user_id]
        if kind != "PERSONAL_LINK":
            extra = self.rng.randrange(1, 4 if kind == "GROUP_CALENDAR" else 5)
            for other in self.rng.sample(users, min(len(users), extra + 1)):
                if other.user_id not in members and len(members) <= extra:
                    members.append(other.user_id)
        topic = self.rng.choice(_TOPICS[kind])
        name = f"{topic} with {organizer.first_name}" if kind == "PERSONAL_LINK" else topic
        base = f"{organizer.first_name[:2]}{organizer.last_name}".lower()
        slug = self._slug(f"{base}-{topic.lower().replace(' ', '-')}")
        return MeetingLink(
            id=self._link_id(n),
            slug=slug,
            name=name,
            type=kind,
            organizer_user_id=organizer.user_id,
            default_link=False,
            member_user_ids=tuple(members),
            created_at=created[0],
            updated_at=created[1],
            time_zone=organizer.time_zone,
            settings=self._settings(kind),
        )
