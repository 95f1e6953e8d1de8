"""Per-request dataloaders: nested lookups batched, deduplicated and primed.

Within one GraphQL request each loader asks for a key once, however many fields need
it, and collects the keys asked for in one tick into one batch. Providers without a
batch endpoint get their single calls concurrently (the upstream client bounds the
concurrency per provider). Lists prime the loaders with what their payloads embed
(a Thought Industries meeting's course and attendees, a Daily session's participants),
so nested fields over them cost nothing. Each loader asks the adapters of one
capability (meeting sources, course catalogs, member directories); a provider without
it has no such node (or, for attendees, none beyond what the payload carried).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import TypeVar

from aiodataloader import DataLoader

from meetingmesh.domain import Attendee, Course, Meeting, Member, Provider
from meetingmesh.errors import GatewayError
from meetingmesh.providers.base import CourseCatalog, MeetingSource, MemberDirectory

K = TypeVar("K")
V = TypeVar("V")
Key = tuple[Provider, str]


async def _each(keys: Sequence[K], load: Callable[[K], Awaitable[V]]) -> list[V | GatewayError]:
    """Load every key concurrently; a provider failure fails only its own key."""

    async def one(key: K) -> V | GatewayError:
        try:
            return await load(key)
        except GatewayError as error:
            return error

    if len(keys) == 1:
        return [await one(keys[0])]  # no task for the common single lookup
    return list(await asyncio.gather(*(one(k) for k in keys)))


class Loaders:
    """The dataloaders of one request, keyed by (provider, provider key).

    What a payload embeds is primed into plain dictionaries, looked at before the
    dataloader (which would make a future of each primed value), and the dataloaders'
    batch functions reach their ``Loaders`` through a weak reference: nothing here is
    a reference cycle, so a request's loaders go with their last reference instead of
    waiting for the garbage collector.
    """

    def __init__(
        self,
        sources: Mapping[Provider, MeetingSource],
        catalogs: Mapping[Provider, CourseCatalog],
        directories: Mapping[Provider, MemberDirectory],
    ) -> None:
        self._sources = sources
        self._catalogs = catalogs
        self._directories = directories
        self._meetings_by_key: dict[Key, Meeting] = {}
        self._primed_meetings: dict[Key, Meeting] = {}
        self._primed_courses: dict[Key, Course] = {}
        self._primed_attendees: dict[Key, tuple[Attendee, ...]] = {}
        me = weakref.ref(self)
        # A GatewayError in a batch result is raised by ``load`` for that key alone.
        self._meetings = DataLoader[Key, Meeting | None | GatewayError](
            partial(_batch, me, Loaders._load_meetings)
        )
        self._courses = DataLoader[Key, Course | None | GatewayError](
            partial(_batch, me, Loaders._load_courses)
        )
        self._members = DataLoader[Key, Member | None | GatewayError](
            partial(_batch, me, Loaders._load_members)
        )
        self._attendees = DataLoader[Key, tuple[Attendee, ...] | GatewayError](
            partial(_batch, me, Loaders._load_attendees)
        )

    async def meeting(self, provider: Provider, key: str) -> Meeting | None:
        """One meeting by provider key."""
        primed = self._primed_meetings.get((provider, key))
        if primed is not None:
            return primed
        return _loaded(await self._meetings.load((provider, key)))

    async def course(self, provider: Provider, course_id: str) -> Course | None:
        """One course by id."""
        primed = self._primed_courses.get((provider, course_id))
        if primed is not None:
            return primed
        return _loaded(await self._courses.load((provider, course_id)))

    async def member(self, provider: Provider, key: str) -> Member | None:
        """One member by provider key."""
        return _loaded(await self._members.load((provider, key)))

    def prime(self, meeting: Meeting) -> None:
        """Remember a meeting that arrived in a payload, with what it embeds."""
        key = (meeting.provider, meeting.key)
        self._meetings_by_key.setdefault(key, meeting)
        self._primed_meetings.setdefault(key, meeting)
        if meeting.course is not None:
            course_key = (meeting.provider, meeting.course.provider_id)
            self._primed_courses.setdefault(course_key, meeting.course)
        if meeting.attendees is not None:
            self._primed_attendees.setdefault(key, meeting.attendees)

    async def attendees_of(self, meeting: Meeting) -> tuple[Attendee, ...]:
        """A meeting's attendees, fetched (batched) only when its payload had none."""
        if meeting.attendees is not None:
            return meeting.attendees
        key = (meeting.provider, meeting.key)
        primed = self._primed_attendees.get(key)
        if primed is not None:
            return primed
        self._meetings_by_key.setdefault(key, meeting)
        return _loaded(await self._attendees.load(key))

    async def _load_meetings(self, keys: list[Key]) -> list[Meeting | GatewayError | None]:
        found = await _each(keys, self._one_meeting)
        for meeting in found:
            if isinstance(meeting, Meeting):
                self.prime(meeting)
        return found

    async def _one_meeting(self, key: Key) -> Meeting | None:
        source = self._sources.get(key[0])
        return None if source is None else await source.get_meeting(key[1])

    async def _load_courses(self, keys: list[Key]) -> list[Course | GatewayError | None]:
        async def one(key: Key) -> Course | None:
            catalog = self._catalogs.get(key[0])
            return None if catalog is None else await catalog.get_course(key[1])

        return await _each(keys, one)

    async def _load_members(self, keys: list[Key]) -> list[Member | GatewayError | None]:
        async def one(key: Key) -> Member | None:
            directory = self._directories.get(key[0])
            return None if directory is None else await directory.get_member(key[1])

        return await _each(keys, one)

    async def _load_attendees(self, keys: list[Key]) -> list[tuple[Attendee, ...] | GatewayError]:
        async def one(key: Key) -> tuple[Attendee, ...]:
            source = self._sources.get(key[0])
            meeting = self._meetings_by_key[key]
            return (
                meeting.attendees or () if source is None else await source.get_attendees(meeting)
            )

        return await _each(keys, one)


async def _batch(
    loaders: weakref.ref[Loaders],
    load: Callable[[Loaders, list[K]], Awaitable[list[V]]],
    keys: list[K],
) -> list[V]:
    """A dataloader's batch function: ``load`` on the loaders, alive while they load."""
    alive = loaders()
    assert alive is not None  # a batch runs only while a request awaits its loads
    return await load(alive, keys)


def _loaded(value: V | GatewayError) -> V:
    # aiodataloader raises a batch's exception results from ``load``; this never sees one.
    assert not isinstance(value, GatewayError)
    return value
