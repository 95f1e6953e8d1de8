"""Secrets never leave the process: one registry of every secret, and the text it cleans.

A provider may repeat the credential it was sent in an error body ("token sk_live_…
is not valid"). Every text that comes from upstream is cleaned with ``redact()``
before it is stored (``lastError``), logged or returned (GraphQL errors), and the log
formats clean every line once more.

The registry is process-wide, so every credential joins it the same way, whoever
holds it: ``create_app`` registers ``Settings.secrets()`` (provider tokens, API keys,
and whatever else the configuration holds), and code that obtains a credential at run
time (a minted JWT, a refreshed access token) calls ``register()`` as soon as it has
it, before using it. A secret is replaced with ``[REDACTED]``, in its plain and its
URL-encoded form. Registering never forgets: a rotated credential stays redacted.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import quote

REDACTED = "[REDACTED]"


class Redactor:
    """A set of secrets and the one pattern that finds any of them."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()  # apps (and their registrations) may live in threads

    def register(self, *secrets: str) -> None:
        """Redact each of ``secrets`` (empty strings are ignored) from now on."""
        forms = {form for s in secrets if s for form in (s, quote(s, safe=""))}
        with self._lock:
            if forms <= self._secrets:
                return
            self._secrets |= forms
            # Longest first, so a secret that contains another is replaced whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def registered(self) -> frozenset[str]:
        """Every secret registered so far, in each form that is redacted."""
        with self._lock:
            return frozenset(self._secrets)

    def redact(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``[REDACTED]``."""
        pattern = self._pattern
        return text if pattern is None or not text else pattern.sub(REDACTED, text)

    def redact_json(self, value: Any) -> Any:
        """A parsed JSON value with every string (keys included) redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self.redact_json(v) for v in value]
        if isinstance(value, dict):
            return {self.redact(str(k)): self.redact_json(v) for k, v in value.items()}
        return value


#: The process's registry.
SECRETS = Redactor()


def register(*secrets: str) -> None:
    """Add ``secrets`` to the process's registry (see the module docstring)."""
    SECRETS.register(*secrets)


def redact(text: str) -> str:
    """``text`` cleaned of every registered secret."""
    return SECRETS.redact(text)


def redact_json(value: Any) -> Any:
    """A parsed JSON value cleaned of every registered secret."""
    return SECRETS.redact_json(value)
