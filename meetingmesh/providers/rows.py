"""Reading provider rows robustly: a malformed row is left out and reported, never fatal.

Providers send lists; one bad row in them (a null ``start_time``, an attendee without
an id, a null in a list) must not cost the whole page. Adapters read a list with
``read_rows``: each row's parser returns the record, or raises ``BadRow`` (or fails on
a missing key or a wrong type) for a row that cannot be shown, and the row is left out
with a ``RowProblem`` naming the provider and, where it has one, the row's id. Parts
of a row are read the same way with ``Notes.each``: a participant without an id is
left out of its session, the session kept. Each row makes at most one problem, however
many of its parts were left out. The result is ``Rows``: a tuple of the records that
also carries the problems.

How problems reach the client, the same way for every adapter and every field: a
``Rows`` handed out by the parse memo (``base.ParseMemo``) is reported to the current
request each time, and an adapter that reads rows without the memo calls ``report``.
``report`` gives each problem to the request's *problem sink*, a context variable the
GraphQL layer sets for each operation (``problem_sink``); a resolver that knows its
field's path narrows it for the work it starts. The request context turns each
distinct problem into one ``UPSTREAM_BAD_RESPONSE`` error with the provider's name,
however many times its page was read. Outside a request, a problem is logged once.

An unknown enum word (a status, a link type, a wait-list state) is not a problem: the
field reads ``UNKNOWN`` or null, and ``unknown_word`` logs the word once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from meetingmesh.domain import Provider
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.redaction import redact

T = TypeVar("T")
logger = logging.getLogger("meetingmesh.providers")

#: Where a request's row problems go (None outside a request).
ProblemSink = Callable[["RowProblem"], None]
_SINK: ContextVar[ProblemSink | None] = ContextVar("meetingmesh_row_problems", default=None)
#: Remembered so that each is logged once per process (bounded: a few hundred at most).
_LOGGED: set[tuple[str, ...]] = set()
_LOG_LIMIT = 512
#: Errors a row parser may raise for a row it cannot read.
UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, OverflowError)


class BadRow(ValueError):
    """Raised by a row parser: the row cannot be shown, for the reason given."""

    def __init__(self, fault: str) -> None:
        super().__init__(fault)
        self.fault = fault


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row (or parts of one) left out of a provider's answer, and why: one per row."""

    provider: Provider
    #: The row's id, where the provider gave it one.
    row_id: str | None
    message: str

    @classmethod
    def row(cls, provider: Provider, what: str, row_id: str | None, fault: str) -> RowProblem:
        """A whole row left out: "Daily sent meeting session X that has no start time"."""
        name = _name(what, row_id)
        return cls(provider, row_id, f"{provider.label} sent {name} that {fault}; it was left out")

    @classmethod
    def parts(
        cls, provider: Provider, what: str, row_id: str | None, faults: list[tuple[str, str]]
    ) -> RowProblem:
        """Parts of a row left out, the row kept: "... with an attendee that has no id".

        ``faults`` holds (part, fault) pairs: ("attendee", "has no id").
        """
        listed = " and ".join(f"{_article(part)} that {fault}" for part, fault in faults)
        gone = f"that {faults[0][0]} was" if len(faults) == 1 else "those were"
        message = f"{provider.label} sent {_name(what, row_id)} with {listed}; {gone} left out"
        return cls(provider, row_id, message)

    def error(self) -> GatewayError:
        """The error a client sees: ``UPSTREAM_BAD_RESPONSE`` naming the provider."""
        return GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, self.message, provider=self.provider)


class Rows(tuple[T, ...]):
    """Records read from a provider's list, and the problems of the rows left out.

    ``derived`` keeps what readers work out from the records (``paging``: their key
    order), by the reader's key, as long as the rows live: a cached page's rows are
    read by every request the cache answers.
    """

    problems: tuple[RowProblem, ...]
    derived: dict[Hashable, object]

    def __new__(cls, items: Iterable[T] = (), problems: Iterable[RowProblem] = ()) -> Rows[T]:
        """The records ``items`` with the ``problems`` met reading them."""
        rows = super().__new__(cls, items)
        rows.problems = tuple(problems)
        rows.derived = {}
        return rows


class Notes:
    """What reading a list met: problems of finished rows, faults of the row being read."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.problems: list[RowProblem] = []
        self._faults: list[tuple[str, str]] = []

    def left_out(self, part: str, fault: str) -> None:
        """Note a part of the current row left out (a group leader without an id)."""
        self._faults.append((part, fault))

    def each(self, values: Any, parse: Callable[[Any], T], *, part: str) -> tuple[T, ...]:
        """A nested list of the current row (its ``part`` entries), bad entries left out."""
        if values is None:
            return ()
        if not isinstance(values, list):
            raise BadRow(f"has a {part} list that is not a list")
        parsed: list[T] = []
        for value in values:
            if value is None:
                self.left_out(part, "is null")
                continue
            try:
                parsed.append(parse(value))
            except BadRow as exc:
                self.left_out(part, exc.fault)
            except UNREADABLE:
                self.left_out(part, "cannot be read")
        return tuple(parsed)

    def finish_row(self, what: str, row_id: str | None, *, kept: bool = True) -> None:
        """End the current row: one problem for the parts it lost (none if it was dropped)."""
        if kept and self._faults:
            self.problems.append(RowProblem.parts(self.provider, what, row_id, self._faults))
        self._faults = []


def read_rows(
    provider: Provider,
    what: str,
    rows: Iterable[Any],
    parse: Callable[[Any, Notes], T],
    *,
    id_key: str | None = "id",
) -> Rows[T]:
    """Every row ``parse`` can read, in order; the others left out, one problem per row.

    ``what`` names a row in messages ("meeting", "participant"); ``id_key`` is the
    field that holds a row's id, if rows have one.
    """
    notes = Notes(provider)
    parsed: list[T] = []
    for row in rows:
        row_id = _row_id(row, id_key)
        fault = None
        if row is None:
            fault = "is null"
        else:
            try:
                parsed.append(parse(row, notes))
            except BadRow as exc:
                fault = exc.fault
            except UNREADABLE:
                fault = "cannot be read"
        notes.finish_row(what, row_id, kept=fault is None)
        if fault is not None:
            notes.problems.append(RowProblem.row(provider, what, row_id, fault))
    return Rows(parsed, notes.problems)


@contextmanager
def problem_sink(sink: ProblemSink) -> Iterator[None]:
    """Send the row problems of everything inside (and the tasks it starts) to ``sink``."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


def report(problems: Iterable[RowProblem]) -> None:
    """Hand row problems to the current request's sink (outside a request: log each once)."""
    sink = _SINK.get()
    for problem in problems:
        if sink is not None:
            sink(problem)
        else:
            _log_once(("problem", problem.message), "%s", problem.message)


def unknown_word(provider: Provider, field: str, word: Any) -> None:
    """Note an enum word no document lists: logged once per process, never an error."""
    text = repr(str(word)[:60])
    _log_once(
        ("word", provider.name, field, text),
        "%s sent an unknown %s %s; it reads as unknown",
        provider.label,
        field,
        text,
    )


def _log_once(key: tuple[str, ...], message: str, *args: object) -> None:
    if key in _LOGGED or len(_LOGGED) >= _LOG_LIMIT:
        return
    _LOGGED.add(key)
    logger.warning(message, *args)


def _row_id(row: Any, id_key: str | None) -> str | None:
    if id_key is None or not isinstance(row, dict):
        return None
    value = row.get(id_key)
    return None if value is None or isinstance(value, dict | list) else str(value)[:100]


def _article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _name(what: str, row_id: str | None) -> str:
    # A row id is provider text, quoted in errors and logs: cleaned like every other.
    return f"{what} {redact(row_id)}" if row_id else _article(what)
