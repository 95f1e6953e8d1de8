"""HubSpot OAuth for the scheduler simulator: refresh tokens traded for expiring access tokens.

``POST /oauth/v3/token`` takes a form-encoded body ``grant_type=refresh_token&client_id&
client_secret&refresh_token`` (HubSpot's v3 OAuth guide: parameters in the body, not the
query, https://developers.hubspot.com/docs/api-reference/auth-oauth-v3/guide) and answers
``{"access_token", "refresh_token", "expires_in", "token_type": "bearer"}`` (or, with the
``camel_case_tokens`` switch, ``accessToken``, ``refreshToken``, ``expiresIn``,
``tokenType``, the spelling of HubSpot's newer reference). Access tokens last
``access_token_lifetime_seconds`` (default 1800: "expires after 30 minutes") of wall-clock
time. With ``rotate_refresh_token`` every refresh answers a new refresh token and the
one used is refused from then on.

Refusals, 400 in HubSpot's OAuth shape (``{"status": "BAD_REFRESH_TOKEN", "message":
"missing or invalid refresh token", ...}`` as HubSpot answers a bad refresh, e.g.
https://nango.dev/blog/hubspot-oauth-bad-refresh-token), plus a ``correlationId``:
``BAD_GRANT_TYPE`` (grant_type is not refresh_token), ``BAD_CLIENT_ID`` (unknown client
id, or a secret that is not the client's), ``BAD_REFRESH_TOKEN``. A request with an
expired access token is 401 category ``EXPIRED_AUTHENTICATION``, "The OAuth token used
to make this call expired N second(s) ago." with ``context: {"expire time": [...]}``
(the body HubSpot sends, as reported in airbytehq/airbyte#74726); an unknown token is
401 ``INVALID_AUTHENTICATION`` as before.
"""

from __future__ import annotations

import math
import secrets
import time
import uuid
from typing import TYPE_CHECKING

from starlette.responses import Response

from meetingmesh.simulators.fake import iso_ms
from meetingmesh.simulators.harness import json_response
from meetingmesh.simulators.hubspot_data import from_ms
from meetingmesh.simulators.hubspot_errors import INVALID_AUTH, error_response

if TYPE_CHECKING:
    from meetingmesh.simulators.hubspot import HubSpotBehaviour

TOKEN_ROUTE = "/oauth/v3/token"
#: The simulated OAuth app's credentials and the refresh token its install produced.
CLIENT_ID = "sim-hubspot-client-id"
CLIENT_SECRET = "sim-hubspot-client-secret"
REFRESH_TOKEN = "sim-hubspot-refresh-token"


class OAuthServer:
    """The refresh tokens that hold and the access tokens minted, with their expiry."""

    def __init__(self) -> None:
        self.refresh_tokens = {REFRESH_TOKEN}
        #: access token -> wall-clock instant it expires.
        self.access_tokens: dict[str, float] = {}

    def refresh(self, form: dict[str, str], switches: HubSpotBehaviour) -> Response:
        """Answer one token request."""
        if form.get("grant_type") != "refresh_token":
            return _oauth_error("BAD_GRANT_TYPE", "grant_type must be refresh_token")
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return _oauth_error("BAD_CLIENT_ID", "missing or unknown client id")
        used = form.get("refresh_token", "")
        if used not in self.refresh_tokens:
            return _oauth_error("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
        refresh_token = used
        if switches.rotate_refresh_token:
            self.refresh_tokens.discard(used)
            refresh_token = f"sim-hubspot-refresh-{secrets.token_hex(12)}"
            self.refresh_tokens.add(refresh_token)
        lifetime = switches.access_token_lifetime_seconds
        access_token = f"sim-hubspot-access-{secrets.token_hex(16)}"
        self.access_tokens[access_token] = time.time() + lifetime
        if switches.camel_case_tokens:
            keys = ("accessToken", "refreshToken", "expiresIn", "tokenType")
        else:
            keys = ("access_token", "refresh_token", "expires_in", "token_type")
        return json_response(
            dict(zip(keys, (access_token, refresh_token, lifetime, "bearer"), strict=True))
        )

    def check(self, token: str) -> Response | None:
        """None for a minted access token still valid; else HubSpot's 401."""
        expires = self.access_tokens.get(token)
        if expires is None:
            return error_response(401, "INVALID_AUTHENTICATION", INVALID_AUTH)
        now = time.time()
        if now < expires:
            return None
        ago = math.floor(now - expires)
        body = {
            "status": "error",
            "message": f"The OAuth token used to make this call expired {ago} second(s) ago.",
            "correlationId": str(uuid.uuid4()),
            "category": "EXPIRED_AUTHENTICATION",
            "context": {"expire time": [iso_ms(from_ms(int(expires * 1000)))]},
        }
        return json_response(body, status_code=401)


def _oauth_error(status: str, message: str) -> Response:
    body = {"status": status, "message": message, "correlationId": str(uuid.uuid4())}
    return json_response(body, status_code=400)
