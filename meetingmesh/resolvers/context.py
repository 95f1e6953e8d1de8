"""Per-request context: the configured adapters by capability, the clock, and failures.

Resolvers ask the context for the adapters that can do something (``meeting_sources``,
``course_catalogs``, ``member_directories``, ``member_calendars``, ``scheduler``),
never for a provider by name. Each view lists providers in the ``Provider`` order, so
merged answers (the provider facet) come in the same order whatever the configuration.

A provider failure inside a field that merges several providers must not fail the
field: the resolver reports it here and returns the other providers' data. The HTTP
layer adds each reported failure to the response's ``errors``, with its path. Rows a
provider sent that could not be read arrive here too (``report_problem``, through the
problem sink of ``providers/rows.py``), each once per request, with the path of the
field that asked when it set one (``problems_at``), else none.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from meetingmesh.domain import Provider
from meetingmesh.errors import GatewayError
from meetingmesh.events import Live
from meetingmesh.metrics import Metrics
from meetingmesh.providers.base import (
    Adapter,
    CourseCatalog,
    MeetingSource,
    MemberCalendar,
    MemberDirectory,
    Scheduler,
)
from meetingmesh.providers.rows import RowProblem, problem_sink
from meetingmesh.resolvers.loaders import Loaders

Path = list[str | int]
P = ParamSpec("P")
R = TypeVar("R")


#: The capabilities a context sorts adapters by.
CAPABILITIES: tuple[Any, ...] = (
    MeetingSource,
    CourseCatalog,
    MemberDirectory,
    MemberCalendar,
    Scheduler,
)
_ORDER = tuple(Provider)
_CAPABILITIES_OF: dict[type, tuple[Any, ...]] = {}


def _capabilities_of(kind: type) -> tuple[Any, ...]:
    """The protocols an adapter class implements (checked once per class: it is slow)."""
    found = _CAPABILITIES_OF.get(kind)
    if found is None:
        found = _CAPABILITIES_OF[kind] = tuple(c for c in CAPABILITIES if issubclass(kind, c))
    return found


def _by_capability(adapters: Mapping[Provider, Adapter]) -> dict[Any, dict[Provider, Any]]:
    """Each capability's adapters, in ``Provider`` order.

    (Typed ``Any``: mypy accepts no protocol class where a class object is expected.)
    """
    views: dict[Any, dict[Provider, Any]] = {c: {} for c in CAPABILITIES}
    for provider in _ORDER:
        adapter = adapters.get(provider)
        if adapter is not None:
            for capability in _capabilities_of(type(adapter)):
                views[capability][provider] = adapter
    return views


@dataclass
class RequestContext:
    """Everything a resolver may use during one GraphQL request."""

    adapters: Mapping[Provider, Adapter]
    clock: Callable[[], datetime]
    request: Any = None
    max_page_size: int = 100
    metrics: Metrics | None = None
    #: The event broker and the bounds of subscriptions; None where there are none.
    live: Live | None = None
    #: A WebSocket's ``connection_init`` payload (Strawberry fills it in).
    connection_params: dict[str, object] | None = None
    reported: list[tuple[GatewayError, Path | None]] = field(default_factory=list)
    problems: set[RowProblem] = field(default_factory=set)
    meeting_sources: Mapping[Provider, MeetingSource] = field(init=False)
    course_catalogs: Mapping[Provider, CourseCatalog] = field(init=False)
    member_directories: Mapping[Provider, MemberDirectory] = field(init=False)
    member_calendars: Mapping[Provider, MemberCalendar] = field(init=False)
    schedulers: Mapping[Provider, Scheduler] = field(init=False)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        views = _by_capability(self.adapters)
        self.meeting_sources = views[MeetingSource]
        self.course_catalogs = views[CourseCatalog]
        self.member_directories = views[MemberDirectory]
        self.member_calendars = views[MemberCalendar]
        self.schedulers = views[Scheduler]
        self.loaders = Loaders(self.meeting_sources, self.course_catalogs, self.member_directories)

    @property
    def scheduler(self) -> Scheduler | None:
        """The scheduler behind the scheduling fields, or None when none is configured."""
        return next(iter(self.schedulers.values()), None)

    def adapter(self, provider: Provider) -> Adapter | None:
        """The adapter of ``provider`` (for its upstream client), or None when it is off."""
        return self.adapters.get(provider)

    def for_operation(self) -> RequestContext:
        """A context for another operation of the same connection (one WebSocket).

        Its loaders, reported failures and row problems are its own, as a separate
        request's would be; the connection's adapters, clock and parameters are shared.
        """
        return RequestContext(
            adapters=self.adapters,
            clock=self.clock,
            request=self.request,
            max_page_size=self.max_page_size,
            metrics=self.metrics,
            live=self.live,
            connection_params=self.connection_params,
        )

    def renew(self) -> None:
        """Start a subscription's next event as a request of its own.

        The loaders are forgotten (it reads providers anew), and so are the row problems
        already reported (each is reported once per event, and the set stays small).
        """
        self.loaders = Loaders(self.meeting_sources, self.course_catalogs, self.member_directories)
        self.problems = set()

    def report(self, error: GatewayError, path: Path | None) -> None:
        """Record a failure that leaves the field's other data standing."""
        self.reported.append((error, path))
        for related in error.related:
            self.reported.append((related, path))

    def report_problem(self, problem: RowProblem, path: Path | None = None) -> None:
        """Record a provider row left out of the answer: one error per row per request."""
        if problem not in self.problems:
            self.problems.add(problem)
            self.report(problem.error(), path)

    @contextmanager
    def problems_at(self, path: Path) -> Iterator[None]:
        """Report the row problems of the work inside (and the tasks it starts) at ``path``."""
        with problem_sink(lambda problem: self.report_problem(problem, path)):
            yield


def reports_problems_at_path(
    resolve: Callable[Concatenate[RequestContext, Path, P], Awaitable[R]],
) -> Callable[Concatenate[RequestContext, Path, P], Awaitable[R]]:
    """Run a resolver ``(ctx, path, ...)`` with the row problems it meets reported at ``path``."""

    @functools.wraps(resolve)
    async def resolve_at_path(
        ctx: RequestContext, path: Path, /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        with ctx.problems_at(path):
            return await resolve(ctx, path, *args, **kwargs)

    return resolve_at_path
