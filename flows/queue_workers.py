"""Prefect ports of the scenario-2 queue workers: ``rabbitmq_worker`` and ``sqs_worker``.

Orchestration only; the consuming core and the rules live in ``pipelines`` (``queues.worker``,
``queues.consumer``, ``queues.events``). Tasks: ``resolve_run``, ``prepare_target``, one ``consume_batch`` per
batch, ``summarize`` (its value is the flow's result, the same summary the DAG's last task returns).

One task per batch, never per message: a Prefect task costs 15-35 ms here, and a server fed over 10,000
queued events drops task-run records. The receive loop runs in the flow itself, so the broker connection
lives across batches; ``consume_batch`` settles one batch (handle, write, commit, ack) and returns its
counts. Its result is stored under the task run's id: persisted (readable as the task's value), and
never answered from a cache, as the default input-hash key would risk.

Deployed to the ``worker`` pool with no concurrency limit: several runs of one target are competing
consumers of its queue (start more workers on the pool, or ``--scale`` it in compose, to spread them).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import RESULTS
from flows.spec import DeploymentSpec
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.common.workflows import workflow
from pipelines.jobs.queue_worker import (
    open_consumer,
    prepare_worker_target,
    resolve_worker_run,
    summarize_worker_run,
)
from pipelines.queues.consumer import QueueConsumer
from pipelines.queues.contracts import Batch
from pipelines.queues.names import DEFAULT_STREAM
from pipelines.queues.params import settings_from_params


@task(name="resolve_run", **RESULTS)
def resolve_run(broker: str, target: str, stream: str) -> dict[str, str]:
    return resolve_worker_run(broker, target, stream)


@task(name="prepare_target", **RESULTS)
def prepare_target(run: dict[str, str]) -> dict[str, Any]:
    return prepare_worker_target(run)


@task(name="consume_batch", result_storage_key="consume_batch-{task_run.id}", **RESULTS)
def consume_batch(consumer: QueueConsumer, batch: Batch) -> dict[str, Any]:
    """Settle one batch: handle, write the outcomes, commit, ack; return the batch's counts."""
    return consumer.process(batch)


@task(name="summarize", **RESULTS)
def summarize(run: dict[str, str], metrics: dict[str, Any]) -> dict[str, Any]:
    return summarize_worker_run(run, metrics)


def _run_worker(broker: str, params: dict[str, Any]) -> dict[str, Any]:
    settings = settings_from_params(params)  # bad values fail the run before anything is declared
    run = resolve_run(broker, params["target"], params["stream"])
    prepare_target(run)
    log = get_run_logger()
    with open_consumer(run, settings, log=log) as consumer:
        while (batch := consumer.next_batch()) is not None:
            consume_batch(consumer, batch)
        metrics = {**consumer.finish().as_dict(), "stopped": consumer.stopped}
    summary = summarize(run, metrics)
    log.info("%s -> %s: %s", run["queue"], run["target"], summary)
    return summary


RABBITMQ_WORKER = workflow("rabbitmq_worker")
SQS_WORKER = workflow("sqs_worker")


@flow(name=RABBITMQ_WORKER.flow_name, **RESULTS)
def rabbitmq_worker(
    target: str = DEFAULT_TARGET,
    stream: str = DEFAULT_STREAM,
    batch_size: int = 500,
    max_messages: int | None = None,
    max_seconds: float | None = 300.0,
    idle_seconds: float = 2.0,
    wait_seconds: float | None = None,
    max_attempts: int = 5,
    retry_base_seconds: float = 1.0,
) -> dict[str, Any]:
    """Drain ``<stream>-<target>`` on RabbitMQ into ``<target>.order_outcomes``; returns the run summary.
    Parameters: ``pipelines.queues.params``."""
    return _run_worker("rabbitmq", dict(locals()))


@flow(name=SQS_WORKER.flow_name, **RESULTS)
def sqs_worker(
    target: str = DEFAULT_TARGET,
    stream: str = DEFAULT_STREAM,
    batch_size: int = 500,
    max_messages: int | None = None,
    max_seconds: float | None = 300.0,
    idle_seconds: float = 2.0,
    wait_seconds: float | None = None,
    max_attempts: int = 5,
    retry_base_seconds: float = 1.0,
) -> dict[str, Any]:
    """Drain ``<stream>-<target>`` on SQS into ``<target>.order_outcomes``; returns the run summary.
    Parameters: ``pipelines.queues.params``."""
    return _run_worker("sqs", dict(locals()))


# competing consumers: as many runs at once as there are workers for
DEPLOYMENTS: list[DeploymentSpec] = [
    DeploymentSpec.of(wf.id, __name__, work_pool="worker", concurrency_limit=None)
    for wf in (RABBITMQ_WORKER, SQS_WORKER)
]
