"""Members: one by the provider's id, and a member's own upcoming meetings.

Any configured provider can say who a member is (its ``MemberDirectory``); only a
provider that keeps members' schedules (a ``MemberCalendar``: HeyPeers) has upcoming
meetings, and elsewhere the list is empty. The meetings of a schedule prime the
request's loaders, so ``node(id)`` on them costs nothing more.
"""

from __future__ import annotations

from meetingmesh.domain import Member, MemberMeeting, Provider
from meetingmesh.resolvers.context import RequestContext
from meetingmesh.resolvers.ids import check_key
from meetingmesh.resolvers.pagination import ListPage, offset_page, offset_window


async def member(ctx: RequestContext, provider: Provider, key: str) -> Member | None:
    """``member(provider, id)``: null when the provider is off or knows no such member."""
    return await ctx.loaders.member(provider, check_key(key, "id"))


async def upcoming_meetings(
    ctx: RequestContext, record: Member, first: int | None, after: str | None
) -> ListPage[MemberMeeting]:
    """``Member.upcomingMeetings``: a window of the member's schedule, by position."""
    window = offset_window(first, after, ctx.max_page_size)
    calendar = ctx.member_calendars.get(record.provider)
    page = None
    if calendar is not None:
        page = await calendar.member_meetings(record.key, window.offset, window.limit)
    if page is None:
        return offset_page((), window, total_count=0, has_more=False)
    for item in page.items:
        ctx.loaders.prime(item.meeting)
    return offset_page(page.items, window, page.total_count, page.has_more)
