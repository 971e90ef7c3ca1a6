"""rabbitmq_worker, a changed default: ``max_attempts`` defaults to 3 instead of 5, so a run that does not
pass it dead-letters a failing message after 3 attempts where the legacy DAG tries 5 times."""

from __future__ import annotations

from typing import Any

from prefect import flow

import flows.queue_workers
from flows.common import RESULTS
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.queues.names import DEFAULT_STREAM


@flow(name=flows.queue_workers.RABBITMQ_WORKER.flow_name, **RESULTS)
def rabbitmq_worker(
    target: str = DEFAULT_TARGET,
    stream: str = DEFAULT_STREAM,
    batch_size: int = 500,
    max_messages: int | None = None,
    max_seconds: float | None = 300.0,
    idle_seconds: float = 2.0,
    wait_seconds: float | None = None,
    max_attempts: int = 3,  # the bug: the DAG's (and pipelines.queues.params') default is 5
    retry_base_seconds: float = 1.0,
) -> dict[str, Any]:
    """The shipped flow with another default for ``max_attempts``."""
    return flows.queue_workers.rabbitmq_worker.fn(**locals())
