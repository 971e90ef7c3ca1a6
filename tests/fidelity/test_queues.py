"""Scenario 2's queue workers: a port that double-counts duplicates (still a mismatch after a valid
calibration), a changed ``max_attempts`` default, a retried poison message, each a mismatch naming the
value and the outcome rows; calibration refused when its controls saw different inputs or none; the
shipped port after the same calibration, a match."""

from __future__ import annotations

from typing import Any

import pytest

from bridge import calibration
from bridge.compare.model import MATCH, MISMATCH, json_value
from bridge.errors import CalibrationRefusedError
from devkit.producer import special_indexes
from pipelines.queues.events import message_id_for

COUNT = 120
SETTINGS = {"batch_size": 40, "retry_base_seconds": 0.05, "idle_seconds": 1.5}


def special_ids(seed: int, count: int, poison: int, malformed: int) -> tuple[set[str], set[str]]:
    """The ids of the messages the producer makes poison and malformed (``devkit.producer``)."""
    poisoned, broken = special_indexes(count, poison, malformed)
    return {message_id_for(seed, i) for i in poisoned}, {message_id_for(seed, i) for i in broken}


def _calibrated(cal: Any) -> Any:
    """``rabbitmq_worker`` calibrated on two controls, each draining its own copy of the same messages."""
    controls = calibration.control_targets(cal.primary, 2)
    stream = cal.publish("rabbitmq", controls, COUNT, poison=1, malformed=1, duplicates=5)
    conf = {"target": cal.primary, "stream": stream, "max_attempts": 2, **SETTINGS}
    return calibration.calibrate(cal.backends_for("rabbitmq_worker"), "rabbitmq_worker", conf, 2, 240)


def _after_calibration(port: str | None) -> Any:
    def scenario(case: Any, scenarios: Any) -> Any:
        measured = scenarios.once("rabbitmq_worker calibration", _calibrated)
        targets = [case.primary, case.secondary]
        stream = case.publish("rabbitmq", targets, COUNT, poison=1, malformed=1, duplicates=5)
        conf = {"stream": stream, "max_attempts": 2, **SETTINGS}
        return measured, case.shadow("rabbitmq_worker", conf, port=port, noise=measured.noise)

    return scenario


def _refused(inputs: str) -> Any:
    def scenario(case: Any, _: Any) -> Any:
        first, second = calibration.control_targets(case.primary, 2)
        stream = case.stream("sqs", [first, second])
        if inputs == "different":  # the same stream, another 30 messages in each control's queue
            case.publish("sqs", [first], 30, stream=stream)
            case.publish("sqs", [second], 30, stream=stream, start=30)
        conf = {"target": case.primary, "stream": stream, "max_attempts": 2, **SETTINGS}
        try:
            calibration.calibrate(case.backends_for("sqs_worker"), "sqs_worker", conf, runs=2, timeout=240)
        except CalibrationRefusedError as exc:
            case.verdicts.append(f"refused: {exc}")
            return exc
        return None

    return scenario


def _fewer_attempts(case: Any, _: Any) -> Any:
    stream = case.publish("rabbitmq", [case.primary, case.secondary], COUNT, poison=2)
    return case.shadow("rabbitmq_worker", {"stream": stream, **SETTINGS}, port="queue_fewer_attempts")


def _retry_malformed(case: Any, _: Any) -> Any:
    stream = case.publish("sqs", [case.primary, case.secondary], COUNT, malformed=2)
    conf = {"stream": stream, "max_attempts": 3, **SETTINGS}
    return case.shadow("sqs_worker", conf, port="queue_retry_malformed")


SCENARIOS = {
    "queue_no_dedupe": _after_calibration("queue_no_dedupe"),
    "queue_after_calibration": _after_calibration(None),
    "refused_different_inputs": _refused("different"),
    "refused_no_work": _refused("none"),
    "queue_fewer_attempts": _fewer_attempts,
    "queue_retry_malformed": _retry_malformed,
}


@pytest.mark.rabbitmq
@pytest.mark.divergent("queue_no_dedupe")
def test_double_processing_is_a_mismatch_after_a_valid_calibration(ran: Any) -> None:
    case, (measured, result) = ran
    assert measured.fingerprints[0] == measured.fingerprints[1]  # a kept calibration: equal inputs
    assert "result.processed" not in {n.path for n in measured.noise}  # it never varied between controls
    assert result.verdict == MISMATCH, case.explain(result)
    processed = case.difference(result, "result.processed")
    assert processed.prefect - processed.airflow == 5, case.explain(result)
    assert case.table(result, "order_outcomes").equal  # one row per id either way: only the counts tell


@pytest.mark.rabbitmq
@pytest.mark.control("queue_after_calibration")
def test_the_shipped_worker_matches_after_the_same_calibration(ran: Any) -> None:
    case, (_, result) = ran
    assert result.verdict == MATCH, case.explain(result)
    assert result.primary.document is not None and result.primary.document["result"]["processed"] > 0


@pytest.mark.parametrize(
    "inputs,said",
    [
        pytest.param("different", "different inputs", marks=pytest.mark.scenario("refused_different_inputs")),
        pytest.param("none", "did no work", marks=pytest.mark.scenario("refused_no_work")),
    ],
)
def test_calibration_refuses_controls_that_saw_different_inputs_or_none(
    ran: Any, inputs: str, said: str
) -> None:
    _, refused = ran
    assert isinstance(refused, CalibrationRefusedError), f"calibration on {inputs} inputs was kept"
    message = str(refused)
    assert said in message and "\n" not in message, message


@pytest.mark.rabbitmq
@pytest.mark.divergent("queue_fewer_attempts")
def test_a_changed_default_of_max_attempts_is_a_mismatch(ran: Any) -> None:
    """The conf leaves ``max_attempts`` to each side's default: 5 in the DAG, 3 in the port."""
    case, result = ran
    poison, _ = special_ids(case.seed, COUNT, 2, 0)
    assert result.verdict == MISMATCH, case.explain(result)
    retried = case.difference(result, "result.retried")
    assert (retried.airflow, retried.prefect) == (2 * 4, 2 * 2), case.explain(result)
    outcomes = case.table(result, "order_outcomes")
    assert outcomes.changed_count == 2 and outcomes.only_airflow_count == outcomes.only_prefect_count == 0
    assert {json_value(c.key[0]) for c in outcomes.changed} == poison
    assert all(c.columns == ("reason",) for c in outcomes.changed), case.explain(result)


@pytest.mark.divergent("queue_retry_malformed")
def test_retrying_a_malformed_message_is_a_mismatch(ran: Any) -> None:
    case, result = ran
    _, malformed = special_ids(case.seed, COUNT, 0, 2)
    assert result.verdict == MISMATCH, case.explain(result)
    retried = case.difference(result, "result.retried")
    assert (retried.airflow, retried.prefect) == (0, 2 * 2), case.explain(result)
    outcomes = case.table(result, "order_outcomes")
    assert outcomes.changed_count == 2 and outcomes.only_airflow_count == outcomes.only_prefect_count == 0
    assert {json_value(c.key[0]) for c in outcomes.changed} == malformed
    assert all(c.columns == ("reason",) for c in outcomes.changed), case.explain(result)
