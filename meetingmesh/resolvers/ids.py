"""Opaque global ids: ``base64url("<Type>:<provider>:<provider key>")``.

Every node the API hands out carries one, so ``node(id)`` can find it again with no
server-side state: the provider and its key are inside (an attendance's key is its
meeting's key and the attendee's provider id, as a JSON pair: ``attendance_key``). A
client can forge any id, so its key is checked like every identifier a client sends
(``check_key``: at most ``MAX_KEY_LENGTH`` characters, no control characters) before a
provider sees it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from functools import lru_cache

import orjson

from meetingmesh.domain import Attendance, Provider
from meetingmesh.errors import bad_input

NODE_TYPES = frozenset({"Meeting", "Member", "Course", "SchedulingLink", "Attendee"})
_PROVIDERS = {p.value: p for p in Provider}
#: The longest provider key or identifier a client may send (ids, member ids, slugs,
#: rooms): providers' own are far shorter.
MAX_KEY_LENGTH = 256
#: The longest global id: its type, provider and key, in base64.
MAX_ID_LENGTH = 4 * (MAX_KEY_LENGTH + 64) // 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: How much of a client's value an error message quotes.
_SHOWN = 40


def shown(value: str) -> str:
    """A client's value as an error message quotes it: its start, repr'd."""
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


def check_key(value: str, field: str) -> str:
    """An identifier a client sent for a provider, or ``BAD_USER_INPUT`` naming ``field``.

    Empty, longer than ``MAX_KEY_LENGTH`` or holding control characters: no provider
    has such a key, so none is asked.
    """
    if not value or len(value) > MAX_KEY_LENGTH or _CONTROL.search(value):
        raise bad_input(
            f"{field}: {shown(value)} is out of range (1 to {MAX_KEY_LENGTH} characters, "
            "no control characters)",
            field=field,
        )
    return value


@dataclass(frozen=True, slots=True)
class GlobalId:
    """A decoded global id."""

    type_name: str
    provider: Provider
    key: str

    def encode(self) -> str:
        """The opaque id string."""
        raw = f"{self.type_name}:{self.provider.value}:{self.key}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@lru_cache(maxsize=65_536)
def encode_id(type_name: str, provider: Provider, key: str) -> str:
    """The global id of a node (memoised: the same nodes come back request after request)."""
    return GlobalId(type_name, provider, key).encode()


def decode_id(value: str, *, field: str = "id") -> GlobalId:
    """Decode a global id; anything this API did not hand out is ``BAD_USER_INPUT``."""
    refusal = bad_input(f"{shown(value)} is not an id this API issued", field=field)
    if len(value) > MAX_ID_LENGTH:
        raise refusal
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        type_name, provider, key = raw.split(":", 2)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refusal from None
    if type_name not in NODE_TYPES or provider not in _PROVIDERS or not key:
        raise refusal
    check_key(key, field)
    if type_name == "Attendee":
        split_attendance_key(key, field=field)
    return GlobalId(type_name, _PROVIDERS[provider], key)


def attendance_key(attendance: Attendance) -> str:
    """The key inside an attendance's global id: its meeting's key and the attendee's id."""
    return _pair(attendance.meeting_key, attendance.attendee.id)


def _pair(meeting_key: str, attendee_id: str) -> str:
    return orjson.dumps([meeting_key, attendee_id]).decode()


def attendance_id(attendance: Attendance) -> str:
    """An attendance's global id."""
    return _attendance_id(attendance.provider, attendance.meeting_key, attendance.attendee.id)


@lru_cache(maxsize=65_536)
def _attendance_id(provider: Provider, meeting_key: str, attendee_id: str) -> str:
    # Memoised like encode_id: a page of attendances is shown again and again.
    return encode_id("Attendee", provider, _pair(meeting_key, attendee_id))


def split_attendance_key(key: str, *, field: str = "id") -> tuple[str, str]:
    """The meeting key and attendee id inside an attendance key, or ``BAD_USER_INPUT``.

    Each is checked like a key of its own (``check_key``): JSON escapes let the pair hold
    control characters the key as a whole does not show.
    """
    try:
        pair = orjson.loads(key)
    except orjson.JSONDecodeError:
        pair = None
    if not (
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) and p for p in pair)
    ):
        raise bad_input(f"{shown(key)} is not an attendee id this API issued", field=field)
    return check_key(pair[0], field), check_key(pair[1], field)
