"""Prefect ports of the scenario-2 queue workers: ``rabbitmq-worker`` and ``sqs-worker``.

Orchestration only; the consuming core and the rules live in ``pipelines`` (``queue_worker``,
``queue_core``, ``order_events``). Tasks: ``resolve_run``, ``prepare_target``, one ``consume_batch`` per
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

from flows.spec import DeploymentSpec
from pipelines.queue_core import Batch, QueueConsumer
from pipelines.queue_names import DEFAULT_STREAM
from pipelines.queue_params import settings_from_params
from pipelines.queue_worker import (
    open_consumer,
    prepare_worker_target,
    resolve_worker_run,
    summarize_worker_run,
)
from pipelines.targets import DEFAULT_TARGET

_RESULTS: dict[str, Any] = {"persist_result": True, "result_serializer": "json"}


@task(name="resolve_run", **_RESULTS)
def resolve_run(broker: str, target: str, stream: str) -> dict[str, str]:
    return resolve_worker_run(broker, target, stream)


@task(name="prepare_target", **_RESULTS)
def prepare_target(run: dict[str, str]) -> dict[str, Any]:
    return prepare_worker_target(run)


@task(name="consume_batch", result_storage_key="consume_batch-{task_run.id}", **_RESULTS)
def consume_batch(consumer: QueueConsumer, batch: Batch) -> dict[str, Any]:
    """Settle one batch: handle, write the outcomes, commit, ack; return the batch's counts."""
    return consumer.process(batch)


@task(name="summarize", **_RESULTS)
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


@flow(name="rabbitmq-worker", **_RESULTS)
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
    Parameters: ``pipelines.queue_params``."""
    return _run_worker("rabbitmq", dict(locals()))


@flow(name="sqs-worker", **_RESULTS)
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
    Parameters: ``pipelines.queue_params``."""
    return _run_worker("sqs", dict(locals()))


DEPLOYMENTS: list[DeploymentSpec] = [
    DeploymentSpec(
        flow_name="rabbitmq-worker",
        name="rabbitmq_worker",
        entrypoint="flows/queue_workers.py:rabbitmq_worker",
        schedule=None,
        work_pool="worker",
        concurrency_limit=None,  # competing consumers: as many runs at once as there are workers for
        tags=("scenario-2", "queue", "rabbitmq"),
        description="Drain <stream>-<target> on RabbitMQ into <target>.order_outcomes.",
    ),
    DeploymentSpec(
        flow_name="sqs-worker",
        name="sqs_worker",
        entrypoint="flows/queue_workers.py:sqs_worker",
        schedule=None,
        work_pool="worker",
        concurrency_limit=None,
        tags=("scenario-2", "queue", "sqs"),
        description="Drain <stream>-<target> on SQS into <target>.order_outcomes.",
    ),
]
