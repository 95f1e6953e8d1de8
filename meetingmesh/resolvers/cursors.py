"""Opaque, stateless cursors.

A meetings cursor records the sort key of its edge, (start time, provider, key), so
any gateway process can continue from it: each provider resumes after that key. It
also carries each provider's anchor (the provider page its next meeting is on) so the
next page asks each provider for that same page; anchors are hints, the key decides. Lists
that only page by position (attendees, a member's schedule) use offset cursors, and
scheduling links wrap HubSpot's own ``after`` token. A cursor that does not decode is
``BAD_USER_INPUT``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from meetingmesh.domain import MeetingOrder, Provider
from meetingmesh.errors import bad_input
from meetingmesh.providers.base import Anchor, SortKey

_PROVIDERS = {p.value for p in Provider}


def _pack(kind: str, payload: object) -> str:
    raw = orjson.dumps([kind, payload])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unpack(kind: str, cursor: str, field: str) -> object:
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise bad_input(f"{field}: {cursor!r} is not a valid cursor", field=field) from None
    if not isinstance(decoded, list) or len(decoded) != 2 or decoded[0] != kind:
        raise bad_input(f"{field}: {cursor!r} is not a cursor of this list", field=field)
    return decoded[1]


@dataclass(frozen=True, slots=True)
class MeetingCursor:
    """A position in a merged meetings list, with each provider's anchor there.

    ``anchors`` maps a provider to the anchor of its next meeting in ``walk`` order, or
    to None when its stream had ended; a provider that is absent resumes by key alone.
    """

    key: SortKey
    walk: MeetingOrder
    anchors: Mapping[str, Anchor | None] = field(default_factory=dict)


def encode_meeting_cursor(cursor: MeetingCursor) -> str:
    """The opaque form of a meetings cursor."""
    key = cursor.key
    walk = "a" if cursor.walk is MeetingOrder.START_TIME_ASC else "d"
    return _pack(
        "k", [key.start_time.isoformat(), key.provider, key.key, walk, dict(cursor.anchors)]
    )


def decode_meeting_cursor(cursor: str, field: str) -> MeetingCursor:
    """Decode a meetings cursor; anything malformed is ``BAD_USER_INPUT``."""
    payload = _unpack("k", cursor, field)
    try:
        if not isinstance(payload, list) or len(payload) != 5:
            raise ValueError("shape")
        start, provider, key, walk, anchors = payload
        instant = datetime.fromisoformat(start)
        if instant.tzinfo is None or provider not in _PROVIDERS or not isinstance(key, str):
            raise ValueError("content")
        if walk not in ("a", "d") or not isinstance(anchors, dict):
            raise ValueError("walk")
        if any(
            p not in _PROVIDERS or not (a is None or isinstance(a, dict))
            for p, a in anchors.items()
        ):
            raise ValueError("anchors")
    except (TypeError, ValueError):
        raise bad_input(f"{field}: {cursor!r} is not a valid cursor", field=field) from None
    order = MeetingOrder.START_TIME_ASC if walk == "a" else MeetingOrder.START_TIME_DESC
    return MeetingCursor(SortKey(instant, provider, key), order, anchors)


def encode_offset(offset: int) -> str:
    """The cursor of the item at ``offset`` in a positional list."""
    return _pack("o", offset)


def decode_offset(cursor: str, field: str) -> int:
    """The position inside an offset cursor."""
    payload = _unpack("o", cursor, field)
    if isinstance(payload, bool) or not isinstance(payload, int) or payload < 0:
        raise bad_input(f"{field}: {cursor!r} is not a valid cursor", field=field)
    return payload


def encode_token(token: str | None) -> str:
    """A cursor wrapping a provider's own continuation token (None: past the end)."""
    return _pack("t", token)


def decode_token(cursor: str, field: str) -> str | None:
    """The provider token inside a token cursor, or None for the cursor past the end."""
    payload = _unpack("t", cursor, field)
    if payload is not None and not isinstance(payload, str):
        raise bad_input(f"{field}: {cursor!r} is not a valid cursor", field=field)
    return payload
