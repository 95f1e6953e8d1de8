"""Cursors on their own: what goes in comes back out, and nothing malformed gets in."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from meetingmesh.domain import MeetingOrder, Provider, ResumePoint, SortKey
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.resolvers.cursors import (
    MAX_SKIP,
    MeetingCursor,
    TokenPosition,
    decode_meeting_cursor,
    decode_offset,
    decode_position,
    encode_meeting_cursor,
    encode_offset,
    encode_position,
)

NOON = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)
KEY = SortKey(NOON, "daily", "session-1")


def _raw(payload: Any) -> str:
    """A cursor with any content, as a client could forge it."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def _refused(decode: Any, cursor: str, field: str = "after") -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        decode(cursor, field)
    assert caught.value.code is ErrorCode.BAD_USER_INPUT
    assert caught.value.field == field
    return caught.value


def test_a_meetings_cursor_comes_back_with_its_key_walk_and_resume_points() -> None:
    cursor = MeetingCursor(
        KEY,
        MeetingOrder.START_TIME_DESC,
        {
            Provider.HEYPEERS: ResumePoint({"lo": "05/22/2026 12:00 PM", "page": 3}, NOON),
            Provider.DAILY: None,
        },
    )
    assert decode_meeting_cursor(encode_meeting_cursor(cursor), "after") == cursor


def test_a_resume_point_keeps_microseconds_and_its_anchor_untouched() -> None:
    instant = NOON.replace(microsecond=123456)
    anchor = {"s": "a provider may use any key", "nested": {"x": [1, None, True]}}
    cursor = MeetingCursor(
        SortKey(instant, "heypeers", "k"),
        MeetingOrder.START_TIME_ASC,
        {Provider.THOUGHT_INDUSTRIES: ResumePoint(anchor, instant)},
    )
    decoded = decode_meeting_cursor(encode_meeting_cursor(cursor), "before")
    assert decoded.resume[Provider.THOUGHT_INDUSTRIES] == ResumePoint(anchor, instant)
    assert decoded.key.start_time == instant


def test_a_cursor_without_resume_points_resumes_by_key_alone() -> None:
    cursor = MeetingCursor(KEY, MeetingOrder.START_TIME_ASC)
    assert decode_meeting_cursor(encode_meeting_cursor(cursor), "after").resume == {}


GOOD = [NOON.isoformat(), "daily", "session-1", "a", {}]


@pytest.mark.parametrize(
    "payload",
    [
        ["k"],
        ["k", GOOD, "extra"],
        ["o", GOOD],
        ["k", GOOD[:4]],
        ["k", "not a list"],
        ["k", ["not-a-date", *GOOD[1:]]],
        ["k", ["2026-05-22T12:00:00", *GOOD[1:]]],  # no offset
        ["k", [1779451200, *GOOD[1:]]],
        ["k", [GOOD[0], "zoom", *GOOD[2:]]],
        ["k", [GOOD[0], ["daily"], *GOOD[2:]]],
        ["k", [*GOOD[:2], 7, *GOOD[3:]]],
        ["k", [*GOOD[:3], "up", {}]],
        ["k", [*GOOD[:4], []]],
        ["k", [*GOOD[:4], {"zoom": None}]],
        ["k", [*GOOD[:4], {"daily": {"page": 1}}]],
        ["k", [*GOOD[:4], {"daily": [NOON.isoformat()]}]],
        ["k", [*GOOD[:4], {"daily": [NOON.isoformat(), {}, {}]}]],
        ["k", [*GOOD[:4], {"daily": [NOON.isoformat(), []]}]],
        ["k", [*GOOD[:4], {"daily": ["2026-05-22T12:00:00", {}]}]],
        ["k", [*GOOD[:4], {"daily": [None, {}]}]],
    ],
)
def test_every_malformed_meetings_cursor_is_bad_user_input_naming_the_argument(
    payload: Any,
) -> None:
    _refused(decode_meeting_cursor, _raw(payload), "before")


@pytest.mark.parametrize("cursor", ["", "garbage!", "////", _raw({"k": 1})[:-3] + "@@@"])
def test_text_that_is_no_cursor_at_all_is_bad_user_input(cursor: str) -> None:
    _refused(decode_meeting_cursor, cursor)


def test_an_offset_cursor_comes_back_and_refuses_what_is_no_position() -> None:
    assert decode_offset(encode_offset(41), "after") == 41
    for payload in (["o", -1], ["o", True], ["o", "3"], ["o", 1.5], ["t", 3]):
        _refused(decode_offset, _raw(payload))


@pytest.mark.parametrize(
    "position",
    [
        TokenPosition("hubspot-after-token"),
        TokenPosition("hubspot-after-token", 3),
        TokenPosition(None, 7),
        TokenPosition(None, MAX_SKIP),
        None,
    ],
)
def test_a_token_position_comes_back_including_the_one_past_the_end(
    position: TokenPosition | None,
) -> None:
    assert decode_position(encode_position(position), "after") == position


def test_a_page_start_cursor_is_the_bare_token_as_before_positions_existed() -> None:
    assert encode_position(TokenPosition("abc")) == _raw(["t", "abc"])
    assert encode_position(None) == _raw(["t", None])


@pytest.mark.parametrize(
    "payload",
    [["t", 3], ["t", ["x"]], ["o", "x"], ["t", ["x", -1]], ["t", ["x", True]], ["t", [3, 1]]],
)
def test_a_token_cursor_that_is_no_position_is_refused(payload: Any) -> None:
    _refused(decode_position, _raw(payload))


def test_a_place_past_any_provider_page_is_out_of_range() -> None:
    error = _refused(decode_position, _raw(["t", ["x", MAX_SKIP + 1]]))
    assert "out of range" in error.message


@pytest.mark.parametrize(
    "payload",
    [
        ["k", ["0001-01-01T00:00:00+00:00", *GOOD[1:]]],
        ["k", ["9999-12-31T23:59:59+00:00", *GOOD[1:]]],
        ["k", ["0001-01-01T00:00:00+14:00", *GOOD[1:]]],  # no UTC form at all
        ["k", ["9999-12-31T23:59:59-14:00", *GOOD[1:]]],
        ["k", ["1969-12-31T23:59:59+00:00", *GOOD[1:]]],
        ["k", [*GOOD[:4], {"daily": ["0001-01-01T00:00:00+00:00", {}]}]],
        ["k", [*GOOD[:4], {"daily": ["9999-12-31T23:59:59+00:00", {}]}]],
        ["k", [*GOOD[:2], "", *GOOD[3:]]],
        ["k", [*GOOD[:2], "x" * 257, *GOOD[3:]]],
        ["k", [*GOOD[:2], "line\nbreak", *GOOD[3:]]],
        ["k", [*GOOD[:2], "nul\x00", *GOOD[3:]]],
    ],
)
def test_a_meetings_cursor_holding_what_no_cursor_holds_is_out_of_range(payload: Any) -> None:
    error = _refused(decode_meeting_cursor, _raw(payload), "after")
    assert "out of range" in error.message


def test_the_time_bounds_themselves_are_in_range_and_come_back_in_utc() -> None:
    for start in ("1970-01-01T00:00:00+00:00", "2999-12-31T23:59:00+00:00"):
        decoded = decode_meeting_cursor(_raw(["k", [start, *GOOD[1:]]]), "after")
        assert decoded.key.start_time.isoformat() == start
    shifted = decode_meeting_cursor(_raw(["k", ["2026-05-22T14:00:00+02:00", *GOOD[1:]]]), "after")
    assert shifted.key.start_time == NOON
    assert shifted.key.start_time.tzinfo is UTC


def test_a_cursor_too_long_or_too_deep_is_refused_and_quoted_not_echoed() -> None:
    huge = _raw(["k", [*GOOD[:4], {"daily": [NOON.isoformat(), {"pad": "x" * 5000}]}]])
    deep = base64.urlsafe_b64encode(b"[" * 1500 + b"]" * 1500).decode()
    for cursor in (huge, deep, "A" * 100_000):
        error = _refused(decode_meeting_cursor, cursor)
        assert len(error.message) < 120  # the cursor is quoted, not echoed whole


def test_an_offset_past_any_list_is_out_of_range() -> None:
    assert decode_offset(encode_offset(100_000), "after") == 100_000
    for payload in (["o", 100_001], ["o", 2**40], ["o", 2**62], ["o", 1e300]):
        _refused(decode_offset, _raw(payload))


@pytest.mark.parametrize("token", ["", " ", "x" * 257, "new\nline", "nul\x00", "é"])
def test_a_token_that_is_no_hubspot_paging_token_is_refused(token: str) -> None:
    _refused(decode_position, _raw(["t", token]))
    _refused(decode_position, _raw(["t", [token, 2]]))


def test_a_cursor_is_the_same_whichever_provider_answered_first() -> None:
    points = {
        Provider.DAILY: ResumePoint({"l": 5}, NOON),
        Provider.HEYPEERS: None,
        Provider.THOUGHT_INDUSTRIES: ResumePoint({"page": 2}, NOON),
    }
    reversed_order = dict(reversed(points.items()))
    assert encode_meeting_cursor(MeetingCursor(KEY, MeetingOrder.START_TIME_ASC, points)) == (
        encode_meeting_cursor(MeetingCursor(KEY, MeetingOrder.START_TIME_ASC, reversed_order))
    )
