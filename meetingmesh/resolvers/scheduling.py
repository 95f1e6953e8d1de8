"""Scheduling: links, booking information, availability and booking.

Every field asks the request's ``scheduler`` (HubSpot's adapter, the one provider of
scheduling pages); without one, lists are empty, lookups null and booking refused.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from meetingmesh.domain import (
    AvailabilitySlot,
    Booking,
    BookingInfo,
    BookingRequest,
    Page,
    Provider,
    SchedulingLink,
)
from meetingmesh.errors import ErrorCode, GatewayError, bad_input
from meetingmesh.providers.base import LinkFilter
from meetingmesh.resolvers.context import Path, RequestContext
from meetingmesh.resolvers.cursors import TokenPosition, decode_position, encode_position
from meetingmesh.resolvers.ids import check_key, shown
from meetingmesh.resolvers.pagination import DEFAULT_PAGE_SIZE, Edge, ListPage, check_size
from meetingmesh.resolvers.subscriptions import publish_booking

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: The furthest month whose availability may be asked: two years, beyond what any
#: scheduling page advertises (its weeksToAdvertise), so nothing further can be offered.
MAX_MONTH_OFFSET = 24


async def list_links(
    ctx: RequestContext, first: int | None, after: str | None, link_filter: LinkFilter
) -> ListPage[SchedulingLink]:
    """``schedulingLinks``: HubSpot's own paging, every edge resuming right after itself.

    HubSpot continues only from its page ends (its ``after`` token), so an edge's cursor
    is the start token of the HubSpot page it came on plus its place in that page, and
    the last edge of a HubSpot page carries that page's own ``after`` token. Resuming
    from a page end costs what it always did: one call of ``first`` links. Resuming from
    inside a page reads that page again from its start, asking for the links before the
    cursor too (``limit`` = place + ``first``: one call, none while the upstream cache
    holds that very read; a second one when it passes HubSpot's 100 a page) and drops
    them. Like HubSpot's own tokens, a place inside a page counts links: a link created
    or deleted before it in the meantime moves it by one.
    """
    size = check_size("first", first, ctx.max_page_size)
    for field, value in (("name", link_filter.name), ("organizerUserId", link_filter.organizer_id)):
        if value is not None:
            check_key(value, field)
    scheduler = ctx.scheduler
    if scheduler is None:
        return ListPage((), False, False, 0)
    start = TokenPosition(None) if after is None else decode_position(after, "after")
    if start is None:
        return ListPage((), False, True, None)  # the cursor past the last page
    wanted = DEFAULT_PAGE_SIZE if size is None else size
    edges: list[Edge[SchedulingLink]] = []
    total: int | None = None
    token, skip = start.token, start.skip
    has_more = False
    for _ in range(_MAX_LINK_CALLS):
        # HubSpot needs a limit of 1 at least; with first: 0 it only says the total.
        page = await scheduler.list_links(max(1, skip + wanted - len(edges)), token, link_filter)
        total = page.total_count if total is None else total
        rows = page.items[skip : skip + wanted - len(edges)]
        for place, found in enumerate(rows, start=skip + 1):
            edges.append(Edge(_link_cursor(token, place, page), found))
        has_more = skip + len(rows) < len(page.items) or page.has_more
        if len(edges) >= wanted or not page.has_more:
            break
        # The position lies past this page (or the page ran short): go on from its end.
        skip = max(0, skip - len(page.items))
        token = page.next_token
    return ListPage(tuple(edges), has_more, after is not None, total)


#: At most this many HubSpot calls for one page of links: a place inside a page plus
#: ``first`` spans two HubSpot pages at most; a third bounds what a shifted list costs.
_MAX_LINK_CALLS = 3


def _link_cursor(token: str | None, place: int, page: Page[SchedulingLink]) -> str:
    """The cursor after the link at ``place`` (1-based) in the HubSpot page ``token`` starts.

    The page's last link resumes from HubSpot's own token for the next page; the last
    page's last link gets the cursor past the end, never "from the start".
    """
    if place < len(page.items):
        return encode_position(TokenPosition(token, place))
    return encode_position(TokenPosition(page.next_token) if page.next_token else None)


async def link(ctx: RequestContext, slug: str) -> SchedulingLink | None:
    """``schedulingLink(slug)``."""
    check_key(slug, "slug")
    scheduler = ctx.scheduler
    return None if scheduler is None else await scheduler.get_link(slug)


def check_timezone(name: str, field: str = "timezone") -> str:
    """An IANA time zone name, or ``BAD_USER_INPUT``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder, not a zone
        raise bad_input(f"{field}: {shown(name)} is not an IANA time zone", field=field) from None
    return name


async def booking_info(ctx: RequestContext, slug: str, timezone: str) -> BookingInfo | None:
    """``SchedulingLink.bookingInfo``."""
    scheduler = ctx.scheduler
    if scheduler is None:
        return None
    return await scheduler.booking_info(slug, check_timezone(timezone))


async def availability(
    ctx: RequestContext, slug: str, timezone: str, month_offset: int
) -> tuple[AvailabilitySlot, ...]:
    """``SchedulingLink.availability``: ``monthOffset`` within 0..``MAX_MONTH_OFFSET``."""
    if not 0 <= month_offset <= MAX_MONTH_OFFSET:
        raise bad_input(
            f"monthOffset must be between 0 and {MAX_MONTH_OFFSET}, got {month_offset}",
            field="monthOffset",
        )
    scheduler = ctx.scheduler
    if scheduler is None:
        return ()
    return await scheduler.availability(slug, check_timezone(timezone), month_offset)


async def book(ctx: RequestContext, path: Path, request: BookingRequest) -> Booking:
    """``bookMeeting``: checked here first, so that a bad input costs no upstream call.

    A refusal naming several fields raises the first; the others join the response's
    errors beside it, at the same path.
    """
    try:
        return await _book(ctx, request)
    except GatewayError as error:
        for related in error.related:
            ctx.report(related, path)
        error.related = ()
        raise


async def _book(ctx: RequestContext, request: BookingRequest) -> Booking:
    scheduler = ctx.scheduler
    if scheduler is None:
        # The schema documents booking as HubSpot's: the refusal names it.
        raise GatewayError(
            ErrorCode.UPSTREAM_UNAVAILABLE, "HubSpot is not configured", provider=Provider.HUBSPOT
        )
    for field, value in (
        ("slug", request.slug),
        ("firstName", request.first_name),
        ("lastName", request.last_name),
    ):
        if not value.strip():
            raise bad_input(f"{field} must not be empty", field=field)
    for value in (request.email, *request.guest_emails):
        if not _EMAIL.match(value):
            field = "email" if value == request.email else "guestEmails"
            raise bad_input(f"{field}: {value!r} is not an email address", field=field)
    if any(not answer.name.strip() for answer in request.form_answers):
        raise bad_input("formFields: every answer needs its question's name", field="formFields")
    if any(not consent.communication_type_id.strip() for consent in request.consents):
        raise bad_input(
            "legalConsentResponses: every answer needs its communicationTypeId",
            field="legalConsentResponses",
        )
    if request.duration_minutes <= 0:
        raise bad_input("durationMinutes must be positive", field="durationMinutes")
    check_timezone(request.timezone)
    if request.start_time.tzinfo is None:
        raise bad_input("startTime must carry a time zone offset", field="startTime")
    if request.start_time <= ctx.clock():
        raise bad_input("startTime must be in the future", field="startTime")
    booking = await scheduler.book(request)
    # The slot is taken: the page's subscribers hear of it (schedulingLinkAvailabilityChanged).
    await publish_booking(ctx, next(iter(ctx.schedulers)), request.slug)
    return booking
