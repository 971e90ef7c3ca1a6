"""The dispatcher's rule (``pipelines.queues.autoscale``): desired consumers from the queue depth, the runs
already there, the per-consumer share and the bound."""

from __future__ import annotations

import pytest

from pipelines.queues.autoscale import consumers_to_start, plan, tightest_bound

pytestmark = pytest.mark.unit


def test_an_empty_queue_starts_nothing_whatever_runs() -> None:
    assert consumers_to_start(0, 0, 1000, 8) == 0
    assert consumers_to_start(0, 5, 1000, 8) == 0
    assert plan(0, 0, 1000, 8).desired == 0


def test_a_deep_queue_gets_one_consumer_per_share_rounded_up() -> None:
    assert consumers_to_start(1, 0, 1000, 8) == 1
    assert consumers_to_start(1000, 0, 1000, 8) == 1
    assert consumers_to_start(1001, 0, 1000, 8) == 2
    assert consumers_to_start(3500, 0, 1000, 8) == 4


def test_the_bound_caps_desired_and_running_runs_count_against_it() -> None:
    p = plan(100_000, 0, 1000, 3)
    assert (p.desired, p.start) == (3, 3)
    assert consumers_to_start(100_000, 2, 1000, 3) == 1
    assert consumers_to_start(100_000, 3, 1000, 3) == 0
    assert consumers_to_start(100_000, 7, 1000, 3) == 0  # more than the bound already: start none
    assert consumers_to_start(100_000, 0, 1000, 0) == 0  # a pool with no slot


def test_runs_already_there_are_subtracted() -> None:
    assert consumers_to_start(3500, 1, 1000, 8) == 3
    assert consumers_to_start(3500, 4, 1000, 8) == 0
    assert plan(3500, 6, 1000, 8).as_dict() == {
        "depth": 3500,
        "running": 6,
        "desired": 4,
        "bound": 8,
        "start": 0,
    }


@pytest.mark.parametrize("depth", [0, 1, 999, 1000, 1001, 12_345, 10**7])
@pytest.mark.parametrize("running", [0, 1, 4, 20])
@pytest.mark.parametrize("bound", [0, 1, 4, 16])
def test_invariants(depth: int, running: int, bound: int) -> None:
    p = plan(depth, running, 1000, bound)
    assert 0 <= p.start <= bound
    assert p.start == 0 or running + p.start <= bound
    assert p.start == 0 or p.start * 1000 < depth + 1000 * (1 + running)
    assert (depth == 0) <= (p.start == 0)


def test_bad_inputs_are_refused() -> None:
    for args in [(-1, 0, 1, 1), (1, -1, 1, 1), (1, 0, 0, 1), (1, 0, 1, -1), (1.5, 0, 1, 1), (True, 0, 1, 1)]:
        with pytest.raises(ValueError):
            plan(*args)  # type: ignore[arg-type]


def test_tightest_bound_ignores_unset_limits() -> None:
    assert tightest_bound(8, None, 3) == 3
    assert tightest_bound(None, 16) == 16
    with pytest.raises(ValueError, match="no bound"):
        tightest_bound(None, None)


def test_dispatcher_settings_variable_is_parsed_strictly() -> None:
    from pipelines.jobs.dispatch import decide, parse_overrides, settings_variable

    assert settings_variable("sqs_dispatcher") == "bridge_dispatch__sqs_dispatcher"
    assert parse_overrides(None) == parse_overrides("  ") == {}
    assert parse_overrides('{"target": "t1", "max_consumers": 2}') == {"target": "t1", "max_consumers": 2}
    for raw, message in [("[1]", "JSON object"), ("{", "JSON object"), ('{"maxconsumers": 2}', "unknown")]:
        with pytest.raises(ValueError, match=message):
            parse_overrides(raw)
    assert decide({"per_consumer": 100, "max_consumers": 8}, 250, 1, (None, 2)).as_dict() == {
        "depth": 250,
        "running": 1,
        "desired": 2,
        "bound": 2,
        "start": 1,
    }
