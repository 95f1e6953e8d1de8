"""Opaque, stateless cursors.

A meetings cursor records the sort key of its edge, (start time, provider, key), so
any gateway process can continue from it: each provider resumes after that key. Lists
that only page by position (attendees, a member's schedule) use offset cursors, and
scheduling links wrap HubSpot's own ``after`` token. A cursor that does not decode is
``BAD_USER_INPUT``.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import orjson

from meetingmesh.domain import Provider
from meetingmesh.errors import bad_input
from meetingmesh.providers.base import SortKey

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


def encode_key(key: SortKey) -> str:
    """The cursor of a meeting at ``key``."""
    return _pack("k", [key.start_time.isoformat(), key.provider, key.key])


def decode_key(cursor: str, field: str) -> SortKey:
    """The sort key inside a meetings cursor."""
    payload = _unpack("k", cursor, field)
    try:
        if not isinstance(payload, list) or len(payload) != 3:
            raise ValueError("shape")
        start, provider, key = payload
        instant = datetime.fromisoformat(start)
        if instant.tzinfo is None or provider not in _PROVIDERS or not isinstance(key, str):
            raise ValueError("content")
    except (TypeError, ValueError):
        raise bad_input(f"{field}: {cursor!r} is not a valid cursor", field=field) from None
    return SortKey(instant, provider, key)


def encode_offset(offset: int) -> str:
    """The cursor of the item at ``offset`` in a positional list."""
    return _pack("o", offset)


def decode_offset(cursor: str, field: str) -> int:
    """The position inside an offset cursor."""
    payload = _unpack("o", cursor, field)
    if isinstance(payload, bool) or not isinstance(payload, int) or payload < 0:
        raise bad_input(f"{field}: {cursor!r} is not a valid cursor", field=field)
    return payload


def encode_token(token: str) -> str:
    """A cursor wrapping a provider's own continuation token."""
    return _pack("t", token)


def decode_token(cursor: str, field: str) -> str:
    """The provider token inside a token cursor."""
    payload = _unpack("t", cursor, field)
    if not isinstance(payload, str):
        raise bad_input(f"{field}: {cursor!r} is not a valid cursor", field=field)
    return payload
