"""GraphQL enums, registered from the domain's plain enums (names are the GraphQL values).

Each enum is registered with a description for every one of its values: ``register_enum``
refuses, at import, an enum with a value left undescribed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import replace
from typing import TypeVar

import strawberry

from meetingmesh import domain
from meetingmesh.providers.http import Sharing

E = TypeVar("E", bound=enum.Enum)


def register_enum(kind: type[E], name: str, description: str, values: Mapping[E, str]) -> None:
    """Make ``kind`` the GraphQL enum ``name``, each value with its description."""
    missing = [member.name for member in kind if member not in values]
    if missing:
        raise TypeError(f"{name}: no description for {', '.join(missing)}")
    strawberry.enum(kind, name=name, description=description)
    definition = kind.__strawberry_definition__  # type: ignore[attr-defined]
    definition.values = [
        replace(value, description=values[kind[value.name]]) for value in definition.values
    ]


register_enum(
    domain.Provider,
    "Provider",
    "A meeting provider.",
    {
        domain.Provider.HEYPEERS: "HeyPeers: peer-support groups and members' schedules.",
        domain.Provider.THOUGHT_INDUSTRIES: "Thought Industries: training meetings, courses, "
        "attendees.",
        domain.Provider.HUBSPOT: "HubSpot scheduling pages: links, availability, booking "
        "(no meetings list).",
        domain.Provider.DAILY: "Daily: video sessions of rooms, with their participants.",
    },
)
register_enum(
    domain.MeetingStatus,
    "MeetingStatus",
    "Where a meeting is in its life: the provider's own word where it has one "
    "(HeyPeers status, Daily ongoing), else derived from start and end times.",
    {
        domain.MeetingStatus.SCHEDULED: "Not started yet (HeyPeers `scheduled`; elsewhere "
        "the start is still ahead).",
        domain.MeetingStatus.ONGOING: "In progress: Daily says participants are in the room, "
        "or now lies between start and end.",
        domain.MeetingStatus.COMPLETED: "Over (HeyPeers `complete`; a Daily session nobody is "
        "in any more; elsewhere the end has passed).",
        domain.MeetingStatus.CANCELED: "Called off (HeyPeers `cancel`, `canceled`, `cancelled`).",
        domain.MeetingStatus.UNKNOWN: "The provider gave a status word this gateway does not "
        "know, or no start time to derive one from.",
    },
)
register_enum(
    domain.WaitlistStatus,
    "WaitlistStatus",
    "A member's place on a meeting's wait list (HeyPeers `waiting_status`).",
    {
        domain.WaitlistStatus.WAITING: "On the wait list, without a seat yet (`waiting`).",
        domain.WaitlistStatus.OFFERED: "Offered a seat from the wait list (`offered`).",
        domain.WaitlistStatus.ACCEPTED: "The wait-list entry was accepted (`accepted`).",
        domain.WaitlistStatus.REJECTED: "The wait-list entry was rejected (`rejected`).",
        domain.WaitlistStatus.EXPIRED: "The wait-list entry expired (`expired`).",
    },
)
register_enum(
    domain.SchedulingLinkType,
    "SchedulingLinkType",
    "The kind of a HubSpot scheduling page (HubSpot's `type`).",
    {
        domain.SchedulingLinkType.PERSONAL_LINK: "One organizer's own page.",
        domain.SchedulingLinkType.GROUP_CALENDAR: "A meeting with every member of a team: "
        "slots where all of them are free.",
        domain.SchedulingLinkType.ROUND_ROBIN_CALENDAR: "A meeting with one member of a team, "
        "chosen by HubSpot: slots where any of them is free.",
    },
)
register_enum(
    domain.MeetingOrder,
    "MeetingOrder",
    "Order of a meetings list: by start time, then provider, then provider key.",
    {
        domain.MeetingOrder.START_TIME_ASC: "Earliest start first (the default).",
        domain.MeetingOrder.START_TIME_DESC: "Latest start first; ties in reverse provider "
        "and key order, the ascending list reversed.",
    },
)

register_enum(
    Sharing,
    "StateSharing",
    "Where this gateway process keeps a provider's upstream cache, rate limit, in-flight "
    "calls and minted tokens.",
    {
        Sharing.IN_PROCESS: "In this process only: no `[redis]` is configured.",
        Sharing.SHARED: "In Redis, shared with every gateway process.",
        Sharing.FALLBACK: "Redis is configured but cannot be used now: this process's own, "
        "until Redis answers again.",
    },
)

# The domain enums, now registered with Strawberry, are the schema's enum types.
Provider = domain.Provider
MeetingStatus = domain.MeetingStatus
WaitlistStatus = domain.WaitlistStatus
SchedulingLinkType = domain.SchedulingLinkType
MeetingOrder = domain.MeetingOrder
StateSharing = Sharing
