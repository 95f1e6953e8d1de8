"""Bearer API keys: who may call ``/graphql`` (``[server] api_keys``) and read ``/metrics``."""

from __future__ import annotations

import hmac
from collections.abc import Iterable


class ApiKeys:
    """A set of keys, and whether an ``Authorization`` header carries one of them."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = [k.encode() for k in keys]

    def __bool__(self) -> bool:
        """Whether any key is configured (none: everyone may call)."""
        return bool(self._keys)

    def allow(self, authorization: str) -> bool:
        """Whether ``authorization`` is ``Bearer <a configured key>``.

        Every key is compared in constant time, so timing reveals nothing.
        """
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        given = key.strip().encode()
        matched = False
        for candidate in self._keys:
            matched |= hmac.compare_digest(candidate, given)
        return matched
