"""Looking nodes up again by global id: meetings, members, courses, scheduling links,
attendances.

Lookups go through the request's dataloaders: twenty ids of ten meetings cost ten
upstream calls at most, made concurrently, and none for meetings the request has
already seen in a list. A provider that is off, or lacks the capability the node type
needs (a course of a provider without courses), has no such node. An attendance is
found through its meeting: the meeting's lookup, plus its attendees where the
meeting's payload carries none (Daily's ``GET /meetings/:id``: its participants, 100 a
call); a Thought Industries meeting carries its attendees, so one call in all.
"""

from __future__ import annotations

import asyncio

from meetingmesh.domain import Attendance, Course, Meeting, Member, SchedulingLink
from meetingmesh.errors import GatewayError
from meetingmesh.resolvers.context import Path, RequestContext
from meetingmesh.resolvers.ids import GlobalId, decode_id, split_attendance_key

NodeRecord = Meeting | Member | Course | SchedulingLink | Attendance


async def find_node(ctx: RequestContext, global_id: GlobalId) -> NodeRecord | None:
    """The record behind a decoded id, or None when its provider is off or has no such node."""
    loaders = ctx.loaders
    if global_id.type_name == "Meeting":
        return await loaders.meeting(global_id.provider, global_id.key)
    if global_id.type_name == "Member":
        return await loaders.member(global_id.provider, global_id.key)
    if global_id.type_name == "Course":
        return await loaders.course(global_id.provider, global_id.key)
    if global_id.type_name == "Attendee":
        return await _attendance(ctx, global_id)
    scheduler = ctx.schedulers.get(global_id.provider)
    return None if scheduler is None else await scheduler.get_link(global_id.key)


async def _attendance(ctx: RequestContext, global_id: GlobalId) -> Attendance | None:
    meeting_key, attendee_id = split_attendance_key(global_id.key)
    found = await ctx.loaders.meeting(global_id.provider, meeting_key)
    if found is None:
        return None
    for attendee in await ctx.loaders.attendees_of(found):
        if attendee.id == attendee_id:
            return Attendance(found.provider, found.key, attendee)
    return None


async def node(ctx: RequestContext, value: str) -> NodeRecord | None:
    """``node(id)``: a failure fails only this field."""
    return await find_node(ctx, decode_id(value))


async def nodes(ctx: RequestContext, path: Path, values: list[str]) -> list[NodeRecord | None]:
    """``nodes(ids)``: looked up concurrently; a failing or malformed id is null with an error."""

    async def one(index: int, value: str) -> NodeRecord | None:
        try:
            with ctx.problems_at([*path, index]):
                return await find_node(ctx, decode_id(value, field="ids"))
        except GatewayError as error:
            ctx.report(error, [*path, index])
            return None

    return list(await asyncio.gather(*(one(i, v) for i, v in enumerate(values))))


async def meeting(ctx: RequestContext, value: str) -> Meeting | None:
    """``meeting(id)``: only meeting ids are accepted."""
    global_id = decode_id(value)
    if global_id.type_name != "Meeting":
        return None
    found = await find_node(ctx, global_id)
    return found if isinstance(found, Meeting) else None
