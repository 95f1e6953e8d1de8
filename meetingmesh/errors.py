"""The error codes of the API contract and the exception that carries them.

Every failure a client should understand is a ``GatewayError``: it becomes one GraphQL
error with ``extensions {code, provider?, field?}``. Anything else is a bug and is
masked to "Unexpected error." at the edge.
"""

from __future__ import annotations

import enum
from typing import Any

from meetingmesh.domain import Provider


class ErrorCode(enum.StrEnum):
    """The ``extensions.code`` values of the contract."""

    UPSTREAM_UNAUTHORIZED = "UPSTREAM_UNAUTHORIZED"
    UPSTREAM_NOT_FOUND = "UPSTREAM_NOT_FOUND"
    UPSTREAM_RATE_LIMITED = "UPSTREAM_RATE_LIMITED"
    UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    UPSTREAM_BAD_RESPONSE = "UPSTREAM_BAD_RESPONSE"
    #: A wrong argument value (``extensions.field`` names it).
    BAD_USER_INPUT = "BAD_USER_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    #: Not a well-formed GraphQL-over-HTTP request (bad JSON, a wrong shape or parameter
    #: type, a bad batch or persisted-query extension), or one whose operation cannot be
    #: determined (see ``graphql_request``).
    BAD_REQUEST = "BAD_REQUEST"
    #: APQ: the hash is unknown; the client sends the query again (see persisted.py).
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    #: Trusted documents: the id is not in the manifest / the text is not a trusted document.
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
    QUERY_NOT_IN_SAFELIST = "QUERY_NOT_IN_SAFELIST"
    #: A booking whose answer never arrived or could not be read: it may have been made.
    BOOKING_OUTCOME_UNKNOWN = "BOOKING_OUTCOME_UNKNOWN"
    #: A subscription over the process's bound (``server.max_subscriptions``).
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"


class GatewayError(Exception):
    """A failure with a contract code; ``provider`` names the upstream at fault, if any."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        provider: Provider | None = None,
        field: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.provider = provider
        self.field = field
        self.retry_after = retry_after
        #: The provider's HTTP status and parsed error body, for adapters; never shown.
        self.status: int | None = None
        self.upstream_body: Any = None
        #: Further errors of the same failure (one per field a provider refused).
        self.related: tuple[GatewayError, ...] = ()
        #: More ``extensions`` a client may act on (``slotTaken`` of an unknown booking).
        self.details: dict[str, Any] = {}

    @property
    def extensions(self) -> dict[str, Any]:
        """The GraphQL ``extensions`` object for this error."""
        extensions: dict[str, Any] = {"code": self.code.value}
        if self.provider is not None:
            extensions["provider"] = self.provider.name
        if self.field is not None:
            extensions["field"] = self.field
        extensions.update(self.details)
        return extensions


def bad_input(message: str, *, field: str | None = None) -> GatewayError:
    """A ``BAD_USER_INPUT`` error about the client's own arguments."""
    return GatewayError(ErrorCode.BAD_USER_INPUT, message, field=field)


class NotSent(GatewayError):
    """A failure before the request left the gateway: the provider never saw it.

    A booking that fails so is known not to be made (never ``BOOKING_OUTCOME_UNKNOWN``).
    """


class NotAsked(NotSent):
    """A call the gateway gave up before sending it: no verdict on the provider's health."""

    @classmethod
    def of(cls, provider: Provider, code: ErrorCode, reason: str) -> NotAsked:
        """ "<provider> was not asked: <reason>", naming ``provider``."""
        return cls(code, f"{provider.label} was not asked: {reason}", provider=provider)
