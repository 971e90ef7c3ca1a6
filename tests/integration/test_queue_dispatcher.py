"""The queue dispatchers through both real orchestrators, against real RabbitMQ and the stack's SQS (moto).

- Prefect, RabbitMQ: 3,000 messages; one consumer run already running (waiting on another target's
  queue: the limits are per deployment, so every consumer run counts); the dispatcher (per_consumer 1000,
  max_consumers 3) wants 3, counts 1, starts 2, and they drain the queue with every outcome once.
- Airflow, SQS: the same shape with 150 messages (per_consumer 50, max_consumers 3, one already there).
- The bound: a dispatch with max_consumers below the depth's need starts exactly the bound.
- An empty queue starts nothing: the Prefect dispatcher triggered on one, and the Airflow dispatcher's
  own scheduled runs, pointed at an empty queue by its settings Variable.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.backends.airflow import AirflowBackend
from bridge.backends.base import Observation, RunRef, RunState
from bridge.backends.prefect import PrefectBackend
from devkit.producer import publish_orders
from pipelines.adapters.outcome_store import read_outcomes
from pipelines.jobs.dispatch import DISPATCHERS, settings_variable
from pipelines.queues.events import message_id_for
from tests.helpers import wait_for, wait_for_dags

TOKEN = secrets.token_hex(3)
SEED = 909
WORKERS = {"rabbitmq": "rabbitmq-worker/rabbitmq_worker", "sqs": "sqs_worker"}
DISPATCH = {"rabbitmq": "rabbitmq-dispatcher/rabbitmq_dispatcher", "sqs": "sqs_dispatcher"}
RUN_TIMEOUT = 300


@pytest.fixture(scope="module")
def airflow(stack) -> AirflowBackend:  # type: ignore[no-untyped-def]
    backend = AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password)
    wait_for_dags(backend, ["sqs_worker", DISPATCHERS["sqs"]])
    return backend


@pytest.fixture(scope="module")
def prefect(stack, deployed) -> PrefectBackend:  # type: ignore[no-untyped-def]
    return PrefectBackend(stack.prefect_url)


def publish(lanes: dict[str, Any], broker: str, stream: str, target: str, count: int) -> None:
    lanes["made"].append((broker, stream, [target]))
    publish_orders(broker, count, SEED, targets=[target], stream=stream, url=lanes["urls"][broker])


def worker_conf(target: str, stream: str, **extra: Any) -> dict[str, Any]:
    return {"target": target, "stream": stream, "batch_size": 25, "idle_seconds": 3, **extra}


def dispatch_conf(target: str, stream: str, per_consumer: int, max_consumers: int) -> dict[str, Any]:
    return {
        "target": target,
        "stream": stream,
        "per_consumer": per_consumer,
        "max_consumers": max_consumers,
        "batch_size": 25,
        "idle_seconds": 3,
    }


def done(backend: AirflowBackend | PrefectBackend, ref: RunRef) -> Observation:
    backend.wait(ref, RUN_TIMEOUT)
    return backend.observe(ref)


def assert_drained_once(lanes: dict[str, Any], target: str, n: int, consumers: list[Observation]) -> None:
    assert [o.state for o in consumers] == [RunState.SUCCESS] * len(consumers), [o.error for o in consumers]
    results = [o.result for o in consumers]
    assert sum(r["processed"] for r in results) == n, results
    rows = read_outcomes(target, lanes["warehouse"])
    assert len(rows) == n and {r[0] for r in rows} == {message_id_for(SEED, i) for i in range(n)}


# -- Prefect on RabbitMQ ---------------------------------------------------------------------------------


def test_prefect_dispatcher_scales_a_deep_rabbitmq_queue_to_the_bound(
    prefect: PrefectBackend, lanes: dict[str, Any]
) -> None:
    stream, target, n = f"dp{TOKEN}r", f"q{TOKEN}_disp_r", 3000
    other = (f"dw{TOKEN}r", f"q{TOKEN}_wait_r")
    publish(lanes, "rabbitmq", *other, 0)  # declare its queue: the waiting run meets it
    waiting = prefect.trigger(
        WORKERS["rabbitmq"], worker_conf(other[1], other[0], wait_seconds=120), f"d{TOKEN}-rw"
    )
    wait_for(lambda: prefect.get_run(waiting).state == RunState.RUNNING, 150, "the waiting consumer running")
    publish(lanes, "rabbitmq", stream, target, n)
    dispatch = done(
        prefect, prefect.trigger(DISPATCH["rabbitmq"], dispatch_conf(target, stream, 1000, 3), f"d{TOKEN}-r")
    )
    assert dispatch.state == RunState.SUCCESS, dispatch.error
    summary = dispatch.result
    assert summary["queue"] == f"{stream}-{target}" and summary["consumer"] == "rabbitmq_worker"
    assert (summary["running"], summary["desired"], summary["bound"]) == (1, 3, 3), summary
    assert summary["start"] == len(summary["started"]) == 2 and summary["depth"] == n
    assert set(dispatch.tasks) == {"plan_consumers", "start_consumers"}
    publish(lanes, "rabbitmq", *other, 1)  # the waiting run (another target's) gets its message and ends
    consumers = [done(prefect, prefect.find_run(i)) for i in summary["started"]]
    assert all(o.result["target"] == target for o in consumers)
    assert_drained_once(lanes, target, n, consumers)
    # (how the 3,000 split between the two depends on when each started: a run's start takes seconds here)
    assert done(prefect, waiting).state == RunState.SUCCESS


def test_prefect_dispatcher_respects_max_consumers_and_starts_nothing_for_an_empty_queue(
    prefect: PrefectBackend, lanes: dict[str, Any]
) -> None:
    stream, target, n = f"db{TOKEN}r", f"q{TOKEN}_bound_r", 2000
    publish(lanes, "rabbitmq", stream, target, n)
    first = done(
        prefect, prefect.trigger(DISPATCH["rabbitmq"], dispatch_conf(target, stream, 100, 2), f"d{TOKEN}-b")
    )
    assert first.state == RunState.SUCCESS, first.error
    s = first.result
    assert (s["desired"], s["bound"], s["start"], len(s["started"])) == (2, 2, 2, 2), s  # 20 wanted
    consumers = [done(prefect, prefect.find_run(i)) for i in s["started"]]
    assert_drained_once(lanes, target, n, consumers)
    again = done(
        prefect, prefect.trigger(DISPATCH["rabbitmq"], dispatch_conf(target, stream, 100, 2), f"d{TOKEN}-e")
    )
    assert again.state == RunState.SUCCESS, again.error
    e = again.result
    assert (e["depth"], e["desired"], e["start"], e["started"]) == (0, 0, 0, []), e
    assert "start_consumers" not in again.tasks  # nothing to start: the task is not even run


# -- Airflow on SQS --------------------------------------------------------------------------------------


@pytest.fixture
def dispatcher_on(airflow: AirflowBackend, lanes: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The SQS dispatcher DAG unpaused, its scheduled runs pointed at an empty queue of this test."""
    dag_id = DISPATCHERS["sqs"]
    stream, target = f"de{TOKEN}s", f"q{TOKEN}_empty_s"
    publish(lanes, "sqs", stream, target, 0)
    airflow.set_variable(settings_variable(dag_id), json.dumps(dispatch_conf(target, stream, 50, 3)))
    airflow.resume(dag_id)
    try:
        yield stream, target
    finally:
        airflow.pause(dag_id)
        airflow.delete_variable(settings_variable(dag_id))


def test_airflow_dispatcher_scales_a_deep_sqs_queue_and_its_schedule_starts_nothing_when_empty(
    airflow: AirflowBackend, lanes: dict[str, Any], dispatcher_on: tuple[str, str]
) -> None:
    stream, target, n = f"dp{TOKEN}s", f"q{TOKEN}_disp_s", 150
    other = (f"dw{TOKEN}s", f"q{TOKEN}_wait_s")
    publish(lanes, "sqs", *other, 0)
    waiting = airflow.trigger(
        WORKERS["sqs"], worker_conf(other[1], other[0], wait_seconds=120), f"d{TOKEN}-sw"
    )

    def consuming() -> bool:
        task = airflow.observe(waiting).tasks.get("consume")
        return task is not None and task.state == RunState.RUNNING

    wait_for(consuming, 150, "the waiting consumer's consume task running")
    publish(lanes, "sqs", stream, target, n)
    ref = airflow.trigger(DISPATCHERS["sqs"], dispatch_conf(target, stream, 50, 3), f"d{TOKEN}-s")
    dispatch = done(airflow, ref)
    assert dispatch.state == RunState.SUCCESS, dispatch.error
    summary = dispatch.tasks["plan_consumers"].value
    assert summary["queue"] == f"{stream}-{target}" and summary["consumer"] == "sqs_worker"
    assert (summary["depth"], summary["running"], summary["desired"], summary["bound"]) == (n, 1, 3, 3)
    assert summary["start"] == len(summary["started"]) == 2, summary
    publish(lanes, "sqs", *other, 1)  # the waiting run (another target's) gets its message and ends
    consumers = [done(airflow, airflow.find_run(f"sqs_worker/{run_id}")) for run_id in summary["started"]]
    assert_drained_once(lanes, target, n, consumers)
    assert done(airflow, waiting).state == RunState.SUCCESS

    # the schedule: runs of the dispatcher's own, on the empty queue its Variable names, start nothing
    def scheduled() -> list[dict[str, Any]]:
        runs = airflow._pages(f"/dags/{DISPATCHERS['sqs']}/dagRuns", "dag_runs")
        return [r for r in runs if r.get("run_type") == "scheduled" and r.get("state") == "success"]

    runs = wait_for(scheduled, 200, "a scheduled dispatcher run to finish", interval=3)
    plan = airflow.observe(airflow.find_run(f"{DISPATCHERS['sqs']}/{runs[0]['dag_run_id']}"))
    value = plan.tasks["plan_consumers"].value
    assert value["queue"] == f"{dispatcher_on[0]}-{dispatcher_on[1]}"
    assert (value["depth"], value["desired"], value["start"], value["started"]) == (0, 0, 0, [])
    assert plan.tasks["start_consumers"].native == "skipped"
