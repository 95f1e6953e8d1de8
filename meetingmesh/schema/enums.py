"""GraphQL enums, registered from the domain's plain enums (names are the GraphQL values)."""

from __future__ import annotations

import strawberry

from meetingmesh import domain
from meetingmesh.providers.http import Sharing

strawberry.enum(domain.Provider, name="Provider", description="A meeting provider.")
strawberry.enum(
    domain.MeetingStatus,
    name="MeetingStatus",
    description=(
        "Where a meeting is in its life: the provider's own word where it has one "
        "(HeyPeers status, Daily ongoing), else derived from start and end times."
    ),
)
strawberry.enum(
    domain.WaitlistStatus,
    name="WaitlistStatus",
    description="A member's place on a meeting's wait list (HeyPeers).",
)
strawberry.enum(
    domain.SchedulingLinkType,
    name="SchedulingLinkType",
    description="The kind of a HubSpot scheduling page.",
)
strawberry.enum(
    domain.MeetingOrder,
    name="MeetingOrder",
    description="Order of a meetings list: by start time, then provider, then provider key.",
)

strawberry.enum(
    Sharing,
    name="StateSharing",
    description=(
        "Where this gateway process keeps a provider's upstream cache, rate limit, "
        "in-flight calls and minted tokens: IN_PROCESS (no [redis] configured), SHARED "
        "(in Redis, with every gateway process), FALLBACK (Redis is configured but cannot "
        "be used now: this process's own, until Redis answers again)."
    ),
)

# The domain enums, now registered with Strawberry, are the schema's enum types.
Provider = domain.Provider
MeetingStatus = domain.MeetingStatus
WaitlistStatus = domain.WaitlistStatus
SchedulingLinkType = domain.SchedulingLinkType
MeetingOrder = domain.MeetingOrder
StateSharing = Sharing
