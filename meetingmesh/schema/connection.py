"""The one connection shape: ``Edge[N]``, ``Connection[E]`` and ``PageInfo``.

Every list of the API (meetings, a member's meetings, attendees, scheduling links) is
a ``Connection`` of ``Edge`` subclasses, built from the resolvers' ``ListPage`` by
``Connection.of``. Each concrete type subclasses a specialised generic under its own
name (``class MeetingEdge(Edge[Meeting])``), only to give its type and fields their
own descriptions and to add fields (``MemberMeetingEdge``'s registration state,
``MeetingConnection``'s aggregations): Strawberry would name ``Edge[Meeting]``
``MeetingEdge`` too, but with the generic's descriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, Self, TypeVar

import strawberry

from meetingmesh.resolvers import pagination

N = TypeVar("N")
E = TypeVar("E", bound="Edge[Any]")
R = TypeVar("R")


@strawberry.type(
    description="Relay page information of a connection. `hasPreviousPage` on a "
    "forward page (and `hasNextPage` on a backward one) is true when a cursor was given."
)
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge.")


@strawberry.type(description="An item and its cursor.")
class Edge(Generic[N]):
    cursor: str = strawberry.field(description="Opaque cursor of this edge.")
    node: N = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list.")
class Connection(Generic[E]):
    edges: list[E] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page lies.")
    total_count: int | None = strawberry.field(description="Items in all.")

    @classmethod
    def of(
        cls,
        page: pagination.ListPage[R],
        edge: Callable[[pagination.Edge[R]], E],
        **extra: Any,
    ) -> Self:
        """The GraphQL view of a resolved page; ``edge`` translates one edge."""
        edges = [edge(e) for e in page.edges]
        return cls(
            edges=edges,
            page_info=_page_info(edges, page.has_next_page, page.has_previous_page),
            total_count=page.total_count,
            **extra,
        )


def _page_info(edges: Sequence[Edge[Any]], has_next: bool, has_previous: bool) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
