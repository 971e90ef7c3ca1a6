"""A queue-worker run as the orchestrations call it: resolve the run, prepare the target, consume, summarize.

Both the legacy DAGs (``dags_legacy/rabbitmq_worker.py``, ``sqs_worker.py``) and the Prefect flows
(``flows/queue_workers.py``) are these calls and nothing else, so a run with the same parameters does the
same work on either side. Brokers are picked by name from ``BROKERS`` and imported only when used (pika
and boto3 are not free to import, and a DAG file is parsed every few seconds).

The run parameters, their defaults and their schema are in ``pipelines.queues.params``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from pipelines.adapters.outcome_store import PostgresOutcomeStore, outcome_table_summary, prepare_outcomes
from pipelines.common.targets import validate_target
from pipelines.queues.consumer import LOG, QueueConsumer
from pipelines.queues.contracts import Broker, CommitHook, ConsumerSettings, Handler
from pipelines.queues.events import handle_event
from pipelines.queues.names import DEFAULT_STREAM, QueueNames


class BrokerModules(NamedTuple):
    """Where a broker lives: its consumer adapter module and ``Broker`` class, its admin tools module
    (``prepare``, ``queue_depths``, ``read_dead_letters``, ``delete_stream``, ``publish``), and the
    registry id of its worker workflow."""

    adapter: str
    broker_class: str
    admin: str
    workflow: str


#: broker name -> its modules
BROKERS: dict[str, BrokerModules] = {
    "rabbitmq": BrokerModules(
        "pipelines.adapters.rabbitmq",
        "RabbitMQBroker",
        "pipelines.adapters.rabbitmq_admin",
        "rabbitmq_worker",
    ),
    "sqs": BrokerModules("pipelines.adapters.sqs", "SQSBroker", "pipelines.adapters.sqs_admin", "sqs_worker"),
}


def _known(broker: str) -> BrokerModules:
    if broker not in BROKERS:
        raise ValueError(f"unknown broker {broker!r}; known: {', '.join(sorted(BROKERS))}")
    return BROKERS[broker]


def broker_admin(broker: str) -> Any:
    """The admin tools module of ``broker`` (imported on first use)."""
    return importlib.import_module(_known(broker).admin)


def resolve_worker_run(broker: str, target: str, stream: str = DEFAULT_STREAM) -> dict[str, str]:
    """The identity of a run: ``{"workflow", "broker", "stream", "target", "queue"}`` (names validated)."""
    workflow = _known(broker).workflow
    names = QueueNames(stream, validate_target(target))
    return {"workflow": workflow, "broker": broker, "stream": stream, "target": target, "queue": names.main}


def prepare_worker_target(run: dict[str, str], warehouse: str | None = None) -> dict[str, Any]:
    """Create the outcome table and the broker's queues if missing (idempotent)."""
    prepared = prepare_outcomes(run["target"], warehouse)
    queues = broker_admin(run["broker"]).prepare(QueueNames(run["stream"], run["target"]))
    return {**prepared, "queues": queues}


def open_broker(run: dict[str, str], **options: Any) -> Broker:
    """The run's broker adapter, not yet connected. ``options`` go to its constructor (e.g. ``url``,
    ``prefetch`` for RabbitMQ; ``endpoint``, ``visibility_timeout`` for SQS)."""
    modules = _known(run["broker"])
    cls = getattr(importlib.import_module(modules.adapter), modules.broker_class)
    broker: Broker = cls(QueueNames(run["stream"], run["target"]), **options)
    return broker


@contextmanager
def open_consumer(
    run: dict[str, str],
    settings: ConsumerSettings,
    *,
    warehouse: str | None = None,
    log: logging.Logger | logging.LoggerAdapter[Any] | None = None,
    handler: Handler = handle_event,
    on_commit: CommitHook | None = None,
    broker_options: dict[str, Any] | None = None,
) -> Iterator[QueueConsumer]:
    """A connected ``QueueConsumer`` for the run; closed (unacked messages requeued) on exit. RabbitMQ's
    prefetch defaults to two batches: enough to keep the pipe full, not so many that one run hoards the
    queue while competing runs starve."""
    options = dict(broker_options or {})
    if run["broker"] == "rabbitmq":
        options.setdefault("prefetch", 2 * settings.batch_size)
    consumer = QueueConsumer(
        open_broker(run, **options),
        PostgresOutcomeStore(run["target"], warehouse),
        settings,
        handler=handler,
        log=log or LOG,
        on_commit=on_commit,
    )
    with consumer:
        yield consumer


def consume(run: dict[str, str], settings: ConsumerSettings, **options: Any) -> dict[str, Any]:
    """Drain the run's queue (see ``open_consumer`` for ``options``); return the metrics and why it stopped."""
    with open_consumer(run, settings, **options) as consumer:
        metrics = consumer.run()
    return {**metrics.as_dict(), "stopped": consumer.stopped}


def summarize_worker_run(
    run: dict[str, str], metrics: dict[str, Any], warehouse: str | None = None
) -> dict[str, Any]:
    """The run summary both orchestrators return: the run's identity, its metrics, and the outcome table
    as it stands after the run (rows, rows per status, checksum)."""
    return {**run, **metrics, "outcomes": outcome_table_summary(run["target"], warehouse)}
