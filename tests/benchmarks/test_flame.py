"""Reading py-spy's collapsed stacks: layers, self and inclusive time."""

from __future__ import annotations

from benchmarks import flame

ROOT = "run (uvicorn/server.py:85)"
EXECUTE = "Executor.execute_field (graphql/execution/executor.py:928)"
WRAPPER = "_strawberry_info_from_graphql (strawberry/schema/schema_converter.py:1144)"
RECORD = "Meeting.from_record (meetingmesh/schema/types.py:323)"
GENERATED = "__create_fn__.<locals>.__init__ (<string>:2)"
STDLIB = "helper (contextlib.py:299)"
ENCODE = "GatewayGraphQL.encode_json (meetingmesh/graphql_view.py:415)"

COLLAPSED = f"""\
{ROOT};{EXECUTE} 6
{ROOT};{EXECUTE};{WRAPPER} 2
{ROOT};{EXECUTE};{RECORD};{GENERATED} 1
{ROOT};{EXECUTE};{STDLIB} 1
{ROOT};{ENCODE} 2
not a stack line
"""


def stacks() -> list[flame.Stack]:
    return flame.parse_collapsed(COLLAPSED)


def test_a_frame_keeps_its_function_and_shortened_file() -> None:
    assert flame.parse_frame(EXECUTE) == flame.Frame(
        "Executor.execute_field", "graphql/execution/executor.py"
    )


def test_lines_without_a_sample_count_are_skipped() -> None:
    assert [s.samples for s in stacks()] == [6, 2, 1, 1, 2]


def test_generated_code_is_charged_to_the_frame_that_called_it() -> None:
    record_stack = stacks()[2]
    assert flame.charged_frame(record_stack).function == "Meeting.from_record"


def test_standard_library_helpers_are_charged_to_their_caller() -> None:
    assert flame.charged_frame(stacks()[3]).function == "Executor.execute_field"


def test_samples_are_grouped_by_the_layer_of_their_charged_frame() -> None:
    layers = flame.by_layer(stacks())
    assert layers == {
        "graphql-core: execution": 7,
        "Strawberry: field wrappers, arguments, info": 2,
        "meetingmesh: schema types and checks": 1,
        flame.JSON_LAYER: 2,
    }


def test_inclusive_time_counts_a_function_once_per_stack() -> None:
    inclusive = flame.by_inclusive(stacks())
    assert inclusive[flame.parse_frame(ROOT)] == 12
    assert inclusive[flame.parse_frame(EXECUTE)] == 10


def test_the_summary_turns_shares_into_milliseconds_per_request() -> None:
    text = flame.summary(stacks(), cpu_ms_per_request=2.4)
    # 7 of 12 samples in graphql-core's executor: 58.3%, 1.40 ms of 2.4 ms.
    assert " 58.3%    1.40 ms  graphql-core: execution" in text
    # The root frame is on every stack: the inclusive table leaves it out.
    assert "run (uvicorn/server.py)" not in text.split("inclusive")[1]
