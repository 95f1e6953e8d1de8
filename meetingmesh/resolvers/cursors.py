"""Opaque, stateless cursors.

A meetings cursor records the sort key of its edge, (start time, provider, key), so
any gateway process can continue from it: each provider resumes after that key. It
also carries each provider's ``ResumePoint`` (the anchor of the provider page its next
meeting is on, and when that meeting starts) so the next page asks each provider for
that same page; resume points are hints, the key decides. This module writes and
reads resume points without opening their anchors. Lists that only page by position
(attendees, a member's schedule) use offset cursors, and scheduling links wrap
HubSpot's own ``after`` token with a position inside the page it starts
(``TokenPosition``). Every edge of every list has a cursor of its own that resumes
right after that edge. A cursor that does not decode, down to the last field of every
resume point, is ``BAD_USER_INPUT`` naming the argument it came in.

Cursors are opaque but not secret: a client can forge any content. So every decoded
value is range-checked before anything is asked of a provider: cursors are at most
``MAX_CURSOR_LENGTH`` characters, times (keys and resume points) fall within
``EARLIEST``..``LATEST``, keys are identifiers (``check_key``), offsets are at most
``MAX_OFFSET``, positions inside a page at most ``MAX_SKIP`` and HubSpot tokens short
printable ASCII. The anchors inside resume points are range-checked by the adapters
that open them.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import orjson

from meetingmesh.domain import EARLIEST, LATEST, MeetingOrder, Provider, ResumePoint, SortKey
from meetingmesh.errors import GatewayError, bad_input
from meetingmesh.resolvers.ids import check_key, shown

_PROVIDERS = {p.value: p for p in Provider}
_WALKS = {"a": MeetingOrder.START_TIME_ASC, "d": MeetingOrder.START_TIME_DESC}
#: The cursors this API hands out are a few hundred characters: longer ones are forged.
MAX_CURSOR_LENGTH = 4096
#: The furthest position an offset cursor may name: no list paged by position is longer.
MAX_OFFSET = 100_000
#: HubSpot's paging tokens: short, printable ASCII.
_TOKEN = re.compile(r"[!-~]{1,256}")


class _OutOfRange(ValueError):
    """A cursor that decodes, holding a value no cursor of this API can hold."""


def _pack(kind: str, payload: object) -> str:
    raw = orjson.dumps([kind, payload])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unpack(kind: str, cursor: str, field: str) -> object:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise bad_input(f"{field}: {shown(cursor)} is too long for a cursor", field=field)
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise _invalid(cursor, field) from None
    if not isinstance(decoded, list) or len(decoded) != 2 or decoded[0] != kind:
        raise bad_input(f"{field}: {shown(cursor)} is not a cursor of this list", field=field)
    return decoded[1]


def _invalid(cursor: str, field: str) -> GatewayError:
    return bad_input(f"{field}: {shown(cursor)} is not a valid cursor", field=field)


def _out_of_range(cursor: str, field: str, why: object) -> GatewayError:
    return bad_input(f"{field}: {shown(cursor)} is out of range ({why})", field=field)


@dataclass(frozen=True, slots=True)
class MeetingCursor:
    """A position in a merged meetings list, with each provider's resume point there.

    ``resume`` maps a provider to the resume point of its next meeting in ``walk``
    order, or to None when its stream had ended; a provider that is absent (it failed)
    resumes by key alone.
    """

    key: SortKey
    walk: MeetingOrder
    resume: Mapping[Provider, ResumePoint | None] = field(default_factory=dict)


def encode_meeting_cursor(cursor: MeetingCursor) -> str:
    """The opaque form of a meetings cursor."""
    key = cursor.key
    walk = "a" if cursor.walk is MeetingOrder.START_TIME_ASC else "d"
    # In provider order, whichever provider answered first: the same page, the same cursors.
    resume = {
        provider.value: None if point is None else [point.next_start, point.anchor]
        for provider in Provider
        if provider in cursor.resume
        for point in (cursor.resume[provider],)
    }
    return _pack("k", [key.start_time, key.provider, key.key, walk, resume])


def decode_meeting_cursor(cursor: str, field: str) -> MeetingCursor:
    """Decode a meetings cursor; anything malformed is ``BAD_USER_INPUT``."""
    payload = _unpack("k", cursor, field)
    try:
        if not isinstance(payload, list) or len(payload) != 5:
            raise ValueError("shape")
        start, provider, key, walk, resume = payload
        if provider not in _PROVIDERS or not isinstance(key, str) or walk not in _WALKS:
            raise ValueError("key")
        if not isinstance(resume, dict):
            raise ValueError("resume")
        points = {_PROVIDERS[name]: _resume_point(point) for name, point in resume.items()}
        sort_key = SortKey(_instant(start), provider, _key(key))
    except _OutOfRange as why:
        raise _out_of_range(cursor, field, why) from None
    except (KeyError, TypeError, ValueError):
        raise _invalid(cursor, field) from None
    return MeetingCursor(sort_key, _WALKS[walk], points)


def _instant(value: object) -> datetime:
    """An aware UTC datetime within ``EARLIEST``..``LATEST`` from its ISO form."""
    if not isinstance(value, str):
        raise ValueError("not a time")
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError("no offset")
    # Compared before any conversion: year 1 at +14:00 has no UTC form at all.
    if not EARLIEST <= instant <= LATEST:
        raise _OutOfRange(f"a time outside {EARLIEST.year}..{LATEST.year}")
    return instant.astimezone(UTC)


def _key(value: str) -> str:
    """A provider key, as every identifier a client sends: bounded, no control characters."""
    try:
        return check_key(value, "key")
    except GatewayError:
        raise _OutOfRange("a key that no provider has") from None


def _resume_point(value: object) -> ResumePoint | None:
    """A resume point from its wire form ``[next start, anchor]``, None for an ended stream."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], dict):
        raise ValueError("resume point")
    return ResumePoint(anchor=value[1], next_start=_instant(value[0]))


@lru_cache(maxsize=4096)
def encode_offset(offset: int) -> str:
    """The cursor of the item at ``offset`` in a positional list (memoised: every page of
    every positional list hands out the same few)."""
    return _pack("o", offset)


def decode_offset(cursor: str, field: str) -> int:
    """The position inside an offset cursor (0..``MAX_OFFSET``)."""
    payload = _unpack("o", cursor, field)
    if isinstance(payload, bool) or not isinstance(payload, int) or payload < 0:
        raise _invalid(cursor, field)
    if payload > MAX_OFFSET:
        raise _out_of_range(cursor, field, f"positions end at {MAX_OFFSET}")
    return payload


@dataclass(frozen=True, slots=True)
class TokenPosition:
    """A place in a list its provider pages with continuation tokens (HubSpot's links).

    ``skip`` items into the provider page that ``token`` starts (None: the list's first
    page). Such a provider continues only from its page ends, so a position inside a
    page is reached by reading that page again from its start.
    """

    token: str | None
    skip: int = 0


#: A HubSpot page holds at most 100 links, so no position lies further into one.
MAX_SKIP = 100


def encode_position(position: TokenPosition | None) -> str:
    """The cursor of a token position; None is the cursor past the end of the list.

    A page start is the bare token, the form these cursors had before positions
    inside pages existed, so cursors handed out then still decode.
    """
    if position is None:
        return _pack("t", None)
    if position.skip == 0 and position.token is not None:
        return _pack("t", position.token)
    return _pack("t", [position.token, position.skip])


def decode_position(cursor: str, field: str) -> TokenPosition | None:
    """The position inside a token cursor, or None for the cursor past the end."""
    payload = _unpack("t", cursor, field)
    if payload is None:
        return None
    if isinstance(payload, str):
        token, skip = payload, 0
    elif isinstance(payload, list) and len(payload) == 2:
        token, skip = payload
        if token is not None and not isinstance(token, str):
            raise _invalid(cursor, field)
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise _invalid(cursor, field)
        if skip > MAX_SKIP:
            raise _out_of_range(cursor, field, f"a provider page holds at most {MAX_SKIP} items")
    else:
        raise _invalid(cursor, field)
    if token is not None and not _TOKEN.fullmatch(token):
        raise _out_of_range(cursor, field, "not a HubSpot paging token")
    return TokenPosition(token, skip)
