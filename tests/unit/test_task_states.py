"""Task states as the servers say them: mapped indices folded, a failed try's log condensed, conf kinds
named as JSON names them, a server's multi-line reason in one line."""

from __future__ import annotations

import pytest

from bridge.backends.http import condense
from bridge.backends.task_states import failure_reason, merge_map_states
from bridge.console.runs import describe_map
from bridge.errors import UsageError
from bridge.operations import parse_conf


def test_agreeing_indices_are_one_state_differing_ones_are_listed() -> None:
    assert merge_map_states(["success"] * 3) == ("success", ())
    states = ["skipped"] + ["success"] * 49 + ["skipped"]
    assert merge_map_states(states) == ("success", tuple(states))
    assert merge_map_states(["success", "failed", "up_for_retry"])[0] == "failed"
    assert merge_map_states(["Completed", "Failed"])[0] == "Failed"  # Prefect's names, any case
    assert merge_map_states([]) == ("none", ())


def test_a_mapped_task_is_described_by_its_commonest_state_and_the_others_indices() -> None:
    states = tuple("skipped" if i % 50 == 0 else "success" for i in range(120))
    assert describe_map(states) == " (120 mapped: 117 success; skipped at 0, 50, 100)"
    many = tuple("failed" if i < 10 else "success" for i in range(30))
    assert describe_map(many) == " (30 mapped: 20 success; failed at 0, 1, 2, 3, 4, 5, 6, 7 and 2 more)"
    assert describe_map(()) == ""


def test_the_failure_reason_is_the_raised_exception_of_the_structured_log() -> None:
    log = [
        {"event": "::group::Pre Execute", "level": "info"},
        {"event": "a warning", "level": "error"},
        {
            "event": "Task failed with exception",
            "level": "error",
            "error_detail": [
                {"exc_type": "ValueError", "exc_value": "zoo: the answer\nis not 42", "frames": []},
                {"exc_type": "KeyError", "exc_value": "'cause'", "is_cause": True},
            ],
        },
        {"event": "::endgroup::", "level": "info"},
    ]
    assert failure_reason(log) == "ValueError: zoo: the answer is not 42"
    assert failure_reason([{"event": "out of memory", "level": "error"}]) == "out of memory"
    assert failure_reason([{"event": "fine", "level": "info"}]) is None and failure_reason(None) is None
    long = [{"level": "error", "error_detail": [{"exc_type": "E", "exc_value": "x" * 1000}]}]
    assert len(failure_reason(long) or "") == 300


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("null", "null"),
        ("[1]", "an array"),
        ('"x"', "a string"),
        ("3", "a number (3)"),
        ("true", "a boolean (true)"),
    ],
)
def test_a_conf_that_is_not_an_object_names_its_json_kind(text: str, kind: str) -> None:
    with pytest.raises(
        UsageError, match=rf"must be a JSON object like .*, not {kind.replace('(', '.').replace(')', '.')}$"
    ):
        parse_conf(text)


def test_a_jsonschema_dump_is_condensed_to_its_first_line() -> None:
    dump = (
        "Invalid input for param count: 'abc' is not of type 'integer'\n\nFailed validating 'type' in "
        "schema:\n    {'type': 'integer', 'minimum': 1}\n\nOn instance:\n    'abc'"
    )
    assert condense(dump) == "Invalid input for param count: 'abc' is not of type 'integer'"
    assert condense("\n  spaced   out \n") == "spaced out" and len(condense("y" * 999)) == 300
