"""The fault matrix's pure logic (tests/faults/table.py) on fakes: counting lost and duplicated items,
a row's pass computed from what it saw, an exception turned into a failed row, the table, the exit code.
`make faults` runs the matrix itself against a private stack."""

from __future__ import annotations

import itertools

import pytest

from tests.faults.table import COLUMNS, Row, Seen, Tally, exit_code, render, run_row, tally


def test_tally_counts_lost_duplicated_and_unexpected_by_identity() -> None:
    assert tally(["a", "b", "c"], ["c", "a", "b"]) == Tally(3, 3, 0, 0, 0)
    assert tally(["a", "b", "c"], ["a", "a", "a", "b"]) == Tally(3, 4, 1, 2, 0)
    assert tally(["a"], ["a", "z"]) == Tally(1, 2, 0, 0, 1)
    assert tally(range(20_000), [*range(19_990), 5, 6]) == Tally(20_000, 19_992, 10, 2, 0)
    assert tally([], []) == Tally(0, 0, 0, 0, 0)


def _row(held: bool = True, items: Tally | None = None) -> Row:
    return Row("fault", "expected", Seen("observed", held, items or Tally(2, 2, 0, 0)))


@pytest.mark.parametrize(
    ("held", "items", "passed"),
    [
        (True, Tally(2, 2, 0, 0), True),
        (False, Tally(2, 2, 0, 0), False),  # the row's own check failed
        (True, Tally(2, 1, 1, 0), False),  # one lost
        (True, Tally(2, 3, 0, 1), False),  # one twice
        (True, Tally(2, 3, 0, 0, 1), False),  # one never sent
    ],
)
def test_a_row_passes_only_when_its_checks_hold_and_nothing_is_lost_or_doubled(
    held: bool, items: Tally, passed: bool
) -> None:
    assert _row(held, items).passed is passed


def test_an_exception_in_a_row_is_that_rows_failure_with_its_message() -> None:
    ticks = itertools.count(10.0, 2.5)

    def body() -> Seen:
        raise AssertionError("exit code 1, not 3")

    row = run_row("api-server killed", "exit 3", body, clock=lambda: next(ticks))
    assert not row.passed and row.seconds == 2.5
    assert row.seen.observed.startswith("error (test_faults_table.py:")
    assert row.seen.observed.endswith("AssertionError: exit code 1, not 3")

    def interrupted() -> Seen:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # Ctrl-C stops the matrix (its teardown runs), not one row
        run_row("x", "y", interrupted)


def test_the_table_has_every_column_wraps_long_cells_and_sums_up() -> None:
    rows = [
        _row(),
        Row("worker SIGKILLed", "all in, none twice", Seen("x " * 50, True, Tally(20_000, 19_999, 1, 0))),
    ]
    text = render(rows, width=30)
    lines = text.splitlines()
    assert [c.strip() for c in lines[0].split("|")[1:-1]] == list(COLUMNS)
    assert "| 20000 | 19999 | 1" in text and "FAIL" in text and "pass" in text
    assert all(len(line) == len(lines[0]) for line in lines[:-1])  # a table: every line as wide
    assert lines[-1] == "2 rows: 1 pass, 1 fail"


def test_the_exit_code_is_zero_only_when_every_row_passed() -> None:
    assert exit_code([_row(), _row()]) == 0
    assert exit_code([_row(), _row(False)]) == 1
    assert exit_code([]) == 1  # nothing ran: nothing proven
