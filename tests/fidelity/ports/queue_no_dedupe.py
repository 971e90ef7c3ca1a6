"""rabbitmq_worker, no dedupe: the port takes every outcome it wrote as new, so a message delivered twice
(the stream re-sends some under the same id) is processed and counted twice. The outcome table still
holds one row per id (its key sees to that); the run's counts do not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefect import flow

import flows.queue_workers
from flows.common import RESULTS
from pipelines.adapters.outcome_store import PostgresOutcomeStore
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.queues.events import Outcome
from pipelines.queues.names import DEFAULT_STREAM

_real_write = PostgresOutcomeStore.write


def write_claiming_all(self: PostgresOutcomeStore, rows: Sequence[Outcome]) -> set[str]:
    """The bug: every id of the batch reported as inserted, whether its row was new or not."""
    _real_write(self, rows)
    return {row.message_id for row in rows}


@flow(name=flows.queue_workers.RABBITMQ_WORKER.flow_name, **RESULTS)
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
    """The shipped flow, its outcome store writing through ``write_claiming_all``."""
    PostgresOutcomeStore.write = write_claiming_all  # type: ignore[method-assign]
    return flows.queue_workers.rabbitmq_worker.fn(**locals())
