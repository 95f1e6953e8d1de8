"""HubSpot's error bodies, as the scheduler simulator renders them.

``{"status": "error", "message", "correlationId", "category", "errors"?: [{"message",
"in", "code"}]}`` (SUPPLEMENT.md; HubSpot's reference shows the same envelope, e.g.
https://developers.hubspot.com/docs/api-reference/legacy/authentication/oauth-tokens/create-oauth-token).
See ``meetingmesh.simulators.hubspot`` for which request gets which error.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from meetingmesh.simulators.harness import json_response

MISSING_AUTH = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
INVALID_AUTH = "The OAuth token used to make this call expired or is invalid."
_INJECTED: dict[int, tuple[str, str]] = {
    400: ("VALIDATION_ERROR", "Invalid input."),
    401: ("INVALID_AUTHENTICATION", MISSING_AUTH),
    403: ("MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call."),
    404: ("OBJECT_NOT_FOUND", "Resource not found."),
    429: ("RATE_LIMITS", "You have reached your ten_secondly_rolling limit."),
}
SERVER_ERROR = ("INTERNAL_ERROR", "internal error")


@dataclass(frozen=True)
class FieldError:
    """One entry of a HubSpot error's ``errors`` list: which input is wrong, and how."""

    field: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        """The entry as HubSpot prints it."""
        return {"message": self.message, "in": self.field, "code": self.code}


def error_response(
    status: int,
    category: str,
    message: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
) -> Response:
    """A HubSpot error body with a fresh correlation id."""
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **(extra or {}),
    }
    if errors:
        body["errors"] = [e.to_json() for e in errors]
    return json_response(body, status_code=status, headers=headers)


def validation_error(errors: Sequence[FieldError]) -> Response:
    """400 VALIDATION_ERROR naming every invalid field."""
    detail = "; ".join(e.message for e in errors)
    return error_response(400, "VALIDATION_ERROR", f"Invalid input: {detail}", errors)


def link_not_found(slug: str) -> Response:
    """404 for a slug no meeting link has."""
    return error_response(404, "OBJECT_NOT_FOUND", f"No meeting link found with slug '{slug}'.")


def render_error(status: int, retry_after: int) -> Response:
    """An injected error of ``status`` in HubSpot's body (429 with ``Retry-After``)."""
    category, message = _INJECTED.get(status, SERVER_ERROR)
    if status == 429:
        return error_response(
            429,
            category,
            message,
            headers={"Retry-After": str(retry_after)},
            extra={"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"},
        )
    return error_response(status, category, message)


async def http_exception(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return error_response(404, "OBJECT_NOT_FOUND", f"No route for {request.url.path}.")
    category = "VALIDATION_ERROR" if status < 500 else SERVER_ERROR[0]
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None
    message = f"HTTP {status} for {request.method} {request.url.path}."
    return error_response(status, category, message, headers=headers)


#: ``subCategory`` for a field error's code when errors carry no ``in``.
_SUB_CATEGORIES = {
    "REQUIRED": "MISSING_REQUIRED_FIELD",
    "START_TIME_IN_PAST": "MEETING_START_TIME_NOT_VALID",
    "START_TIME_NOT_OFFERED": "MEETING_START_TIME_NOT_VALID",
    "SLOT_UNAVAILABLE": "MEETING_START_TIME_NOT_VALID",
}


def without_field_names(response: Response) -> Response:
    """A 400 VALIDATION_ERROR in the ``subCategory`` variant: no ``errors[].in``.

    The field then shows only in each error's message (SUPPLEMENT.md: "Errors may carry
    ``subCategory`` (e.g. MEETING_START_TIME_NOT_VALID) and no ``errors[].in``").
    """
    if response.status_code != 400:
        return response
    body = json.loads(bytes(response.body))
    errors = body.get("errors") if isinstance(body, dict) else None
    if body.get("category") != "VALIDATION_ERROR" or not errors:
        return response
    body["subCategory"] = _SUB_CATEGORIES.get(errors[0]["code"], "INVALID_INPUT")
    body["errors"] = [{"message": f"{e['message']} ({e['in']})", "code": e["code"]} for e in errors]
    return json_response(body, status_code=400)
