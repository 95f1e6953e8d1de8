"""Opaque global ids: ``base64url("<Type>:<provider>:<provider key>")``.

Every node the API hands out carries one, so ``node(id)`` can find it again with no
server-side state: the provider and its key are inside.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from functools import lru_cache

from meetingmesh.domain import Provider
from meetingmesh.errors import bad_input

NODE_TYPES = frozenset({"Meeting", "Member", "Course", "SchedulingLink"})
_PROVIDERS = {p.value: p for p in Provider}


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
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        type_name, provider, key = raw.split(":", 2)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad_input(f"{value!r} is not an id this API issued", field=field) from None
    if type_name not in NODE_TYPES or provider not in _PROVIDERS or not key:
        raise bad_input(f"{value!r} is not an id this API issued", field=field)
    return GlobalId(type_name, _PROVIDERS[provider], key)
