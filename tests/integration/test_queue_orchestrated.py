"""The queue workers through both real orchestrators: the legacy DAGs on Airflow 3, the flows on Prefect 3's
``worker`` pool, against real RabbitMQ and the stack's SQS endpoint.

- Shadow pair, per broker: one stream fanned out (RabbitMQ) or teed (SQS) to two targets; Airflow drains
  the primary's, Prefect the shadow's, at the same time; the two outcome tables must be identical.
- Competing runs: three Prefect runs on one RabbitMQ queue, three Airflow runs on one SQS queue, all
  started before the messages are published; every outcome must be written exactly once.
- A Prefect flow run killed with SIGKILL while it consumes: a new run finishes the queue, nothing is lost
  and nothing written twice. (The kill at the worst moment, between commit and ack, is in
  test_queue_workers.py, where a hook can stop a worker exactly there.)
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from bridge.backends.airflow import AirflowBackend
from bridge.backends.base import Observation, RunRef, RunState
from bridge.backends.prefect import PrefectBackend
from devkit.producer import publish_orders
from pipelines.adapters.outcome_store import read_outcomes
from pipelines.adapters.rabbitmq import connect
from pipelines.jobs.queue_worker import broker_admin
from pipelines.queues.events import message_id_for
from pipelines.queues.names import QueueNames
from tests.helpers import wait_for, wait_for_dags

TOKEN = secrets.token_hex(3)
SEED = 777
DAGS = {"rabbitmq": "rabbitmq_worker", "sqs": "sqs_worker"}
DEPLOYMENTS = {"rabbitmq": "rabbitmq-worker/rabbitmq_worker", "sqs": "sqs-worker/sqs_worker"}
COUNTS = {"rabbitmq": 300, "sqs": 100}  # moto's SQS is O(queue length) per call
RUN_TIMEOUT = 240


@pytest.fixture(scope="module")
def airflow(stack) -> AirflowBackend:  # type: ignore[no-untyped-def]
    backend = AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password)
    wait_for_dags(backend, list(DAGS.values()))
    return backend


@pytest.fixture(scope="module")
def prefect(stack, deployed) -> PrefectBackend:  # type: ignore[no-untyped-def]
    return PrefectBackend(stack.prefect_url)


def publish(
    lanes: dict[str, Any], broker: str, stream: str, targets: list[str], count: int, **kinds: int
) -> dict[str, Any]:
    lanes["made"].append((broker, stream, targets))
    return publish_orders(
        broker, count, SEED, targets=targets, stream=stream, url=lanes["urls"][broker], **kinds
    )


def conf(target: str, stream: str, **extra: Any) -> dict[str, Any]:
    return {
        "target": target,
        "stream": stream,
        "batch_size": 40,
        "max_attempts": 2,
        "retry_base_seconds": 0.2,
        "idle_seconds": 2,
        **extra,
    }


def finished(backend: AirflowBackend | PrefectBackend, refs: list[RunRef]) -> list[Observation]:
    for ref in refs:
        backend.wait(ref, RUN_TIMEOUT)
    return [backend.observe(ref) for ref in refs]


# -- a shadow pair per broker: Airflow on the primary target, Prefect on the shadow ----------------------


@pytest.fixture(scope="module")
def shadow_pairs(airflow: AirflowBackend, prefect: PrefectBackend, lanes: dict[str, Any]) -> dict[str, Any]:
    started: dict[str, Any] = {}
    for broker in DAGS:
        stream, primary, shadow = f"sh{TOKEN}{broker[:1]}", f"q{TOKEN}_{broker}_af", f"q{TOKEN}_{broker}_pf"
        publish(lanes, broker, stream, [primary, shadow], COUNTS[broker], poison=1, malformed=1, duplicates=5)
        started[broker] = (
            primary,
            shadow,
            airflow.trigger(DAGS[broker], conf(primary, stream), f"q{TOKEN}-{broker}-af"),
            prefect.trigger(DEPLOYMENTS[broker], conf(shadow, stream), f"q{TOKEN}-{broker}-pf"),
        )
    return {
        broker: (primary, shadow, finished(airflow, [af])[0], finished(prefect, [pf])[0])
        for broker, (primary, shadow, af, pf) in started.items()
    }


@pytest.mark.parametrize("broker", list(DAGS))
def test_both_orchestrators_write_identical_outcome_tables(
    broker: str, shadow_pairs: dict[str, Any], lanes: dict[str, Any]
) -> None:
    primary, shadow, af, pf = shadow_pairs[broker]
    assert af.state == RunState.SUCCESS, af.error
    assert pf.state == RunState.SUCCESS, pf.error
    n = COUNTS[broker]
    rows = read_outcomes(primary, lanes["warehouse"])
    assert len(rows) == n and rows == read_outcomes(shadow, lanes["warehouse"])
    left, right = af.result, pf.result
    assert (left["target"], right["target"]) == (primary, shadow)
    assert left["outcomes"] == right["outcomes"]  # rows, rows per status, checksum
    assert left["outcomes"]["by_status"]["dead_lettered"] == 2
    for key in (
        "workflow",
        "broker",
        "stream",
        "processed",
        "dead_lettered",
        "malformed",
        "rejected",
        "stopped",
    ):
        assert left[key] == right[key], key
    assert left["processed"] == n - 2 and left["stopped"] == "empty"
    adapter, url = broker_admin(broker), lanes["urls"][broker]
    dead = [
        sorted(
            (d["message_id"], d["reason"], d["attempts"])
            for d in adapter.read_dead_letters(QueueNames(left["stream"], t), url)
        )
        for t in (primary, shadow)
    ]
    assert dead[0] == dead[1] and len(dead[0]) == 2  # the poison (after 2 tries) and the malformed one
    assert {d[2] for d in dead[0]} == {1, 2} and any("invalid JSON" in d[1] for d in dead[0])


@pytest.mark.parametrize("broker", list(DAGS))
def test_the_flow_runs_one_task_per_batch_and_the_dag_one_loop(
    broker: str, shadow_pairs: dict[str, Any]
) -> None:
    _, _, af, pf = shadow_pairs[broker]
    assert set(af.tasks) == {"resolve_run", "prepare_target", "consume", "summarize"}
    assert set(pf.tasks) == {"resolve_run", "prepare_target", "consume_batch", "summarize"}
    batches = pf.tasks["consume_batch"].value
    assert isinstance(batches, list) and len(batches) == pf.result["batches"] >= 3
    assert sum(b["processed"] for b in batches) == pf.result["processed"]
    assert max(b["received"] for b in batches) <= 40
    assert af.tasks["summarize"].value == af.result


# -- three competing runs on one queue, on each orchestrator ---------------------------------------------


def consumer_count(queue: str) -> int:
    conn = connect()
    try:
        return int(conn.channel().queue_declare(queue, passive=True).method.consumer_count)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def competing_runs(
    airflow: AirflowBackend, prefect: PrefectBackend, lanes: dict[str, Any], shadow_pairs: dict[str, Any]
) -> dict[str, Any]:
    """Three Prefect runs on one RabbitMQ queue and three Airflow runs on one SQS queue, all waiting for
    messages before any is published."""
    wait = {"wait_seconds": 120, "idle_seconds": 3, "batch_size": 25}
    rabbit = (f"cr{TOKEN}r", f"q{TOKEN}_crowd_r")
    sqs = (f"cr{TOKEN}s", f"q{TOKEN}_crowd_s")
    # Declare first so the runs and the publisher meet on existing queues.
    publish(lanes, "rabbitmq", rabbit[0], [rabbit[1]], 0)
    publish(lanes, "sqs", sqs[0], [sqs[1]], 0)
    pf_refs = [
        prefect.trigger(DEPLOYMENTS["rabbitmq"], conf(rabbit[1], rabbit[0], **wait), f"q{TOKEN}-crowd-pf{i}")
        for i in range(3)
    ]
    af_refs = [
        airflow.trigger(DAGS["sqs"], conf(sqs[1], sqs[0], **wait), f"q{TOKEN}-crowd-af{i}") for i in range(3)
    ]
    wait_for(lambda: consumer_count(QueueNames(*rabbit).main) == 3, 150, "three Prefect runs consuming")

    def consuming(ref: RunRef) -> bool:
        task = airflow.observe(ref).tasks.get("consume")
        return task is not None and task.state == RunState.RUNNING

    wait_for(lambda: all(consuming(r) for r in af_refs), 150, "three Airflow consume tasks running")
    time.sleep(3)  # the SQS consumers connect and start their long polls
    publish(lanes, "rabbitmq", rabbit[0], [rabbit[1]], 600, duplicates=10)
    publish(lanes, "sqs", sqs[0], [sqs[1]], 150, duplicates=5)
    return {
        "rabbitmq": (rabbit[1], 600, 10, finished(prefect, pf_refs)),
        "sqs": (sqs[1], 150, 5, finished(airflow, af_refs)),
    }


@pytest.mark.parametrize("broker", list(DAGS))
def test_three_concurrent_runs_write_every_outcome_exactly_once(
    broker: str, competing_runs: dict[str, Any], lanes: dict[str, Any]
) -> None:
    target, n, dups, observations = competing_runs[broker]
    assert [o.state for o in observations] == [RunState.SUCCESS] * 3, [o.error for o in observations]
    results = [o.result for o in observations]
    assert sum(r["processed"] for r in results) == n
    assert sum(r["duplicates"] for r in results) >= dups  # SQS may redeliver more; still deduplicated
    assert sum(r["received"] for r in results) == n + sum(r["duplicates"] for r in results)
    assert sum(r["received"] > 0 for r in results) >= (3 if broker == "rabbitmq" else 2), results
    rows = read_outcomes(target, lanes["warehouse"])
    assert len(rows) == n and {r[0] for r in rows} == {message_id_for(SEED, i) for i in range(n)}


# -- a Prefect flow run killed with SIGKILL while it consumes; a new run finishes the queue ---------------


def flow_run_pids(flow_run_id: str) -> list[int]:
    """Processes started for this flow run (the worker gives each one PREFECT__FLOW_RUN_ID)."""
    needle = f"PREFECT__FLOW_RUN_ID={flow_run_id}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@pytest.fixture(scope="module")
def killed_flow_run(
    prefect: PrefectBackend, lanes: dict[str, Any], competing_runs: dict[str, Any]
) -> dict[str, Any]:
    stream, target, n = f"kl{TOKEN}", f"q{TOKEN}_killed", 3000
    publish(lanes, "rabbitmq", stream, [target], n)
    params = conf(target, stream, batch_size=25)
    first = prefect.trigger(DEPLOYMENTS["rabbitmq"], params, f"q{TOKEN}-killed-1")

    def written() -> int:
        try:
            return len(read_outcomes(target, lanes["warehouse"]))
        except Exception:
            return 0

    wait_for(lambda: written() > 0, 150, "the first run to write outcomes")
    pids = flow_run_pids(first.run_id)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    at_kill = written()
    killed = prefect.wait(first, RUN_TIMEOUT)
    before_second = written()
    second = prefect.trigger(DEPLOYMENTS["rabbitmq"], params, f"q{TOKEN}-killed-2")
    return {
        "target": target,
        "n": n,
        "pids": pids,
        "at_kill": at_kill,
        "killed": killed.state,
        "before_second": before_second,
        "second": finished(prefect, [second])[0],
    }


def test_a_flow_run_killed_mid_run_loses_nothing(
    killed_flow_run: dict[str, Any], lanes: dict[str, Any]
) -> None:
    k = killed_flow_run
    assert k["pids"], "no process of the flow run was found to kill"
    assert k["killed"] == RunState.FAILED and 0 < k["at_kill"] < k["n"]  # Prefect marks it Crashed
    second = k["second"]
    assert second.state == RunState.SUCCESS, second.error
    rows = read_outcomes(k["target"], lanes["warehouse"])
    assert len(rows) == k["n"] and {r[0] for r in rows} == {message_id_for(SEED, i) for i in range(k["n"])}
    assert second.result["processed"] == k["n"] - k["before_second"]  # nothing the first run wrote, again
    assert second.result["received"] == second.result["processed"] + second.result["duplicates"]
