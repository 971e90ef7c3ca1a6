"""sqs_worker, a retry on poison: a message that is not even JSON is retried like a failing handler
(``max_attempts`` times, with backoff) before it is dead-lettered, instead of dead-lettered at once with
its parse error. The outcome's reason and the run's counts show it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefect import flow

import flows.queue_workers
from flows.common import RESULTS
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.errors import MalformedMessageError
from pipelines.queues import consumer
from pipelines.queues.contracts import Delivery, backoff_delay
from pipelines.queues.names import DEFAULT_STREAM


def decide_retrying_malformed(self: consumer.QueueConsumer, deliveries: Sequence[Delivery]) -> Any:
    """``QueueConsumer._decide`` as ported, with the bug: a malformed body takes the retry path."""
    s = self.settings
    out = consumer._Settled()
    decoded = []
    for d in deliveries:
        try:
            parsed = consumer.decode_message(d.body)
            decoded.append((d, parsed, parsed["message_id"], None))
        except MalformedMessageError as exc:
            decoded.append((d, None, d.message_id or consumer.body_id(d.body), f"malformed message: {exc}"))
    again = [mid for d, _, mid, _ in decoded if d.redelivered or d.attempt > 1]
    known = self._store_call(self.store.existing, again) if again else set()
    for d, event, mid, problem in decoded:
        if mid in known:
            out.duplicates += 1
            continue
        try:
            if event is None:
                raise MalformedMessageError(problem or "malformed message")
            out.outcomes.append(self.handler(event))
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if d.attempt < s.max_attempts:
                out.retries.append(
                    (d, backoff_delay(d.attempt, s.retry_base_seconds, s.retry_max_seconds), error)
                )
            else:
                reason = f"failed {d.attempt} attempt(s); last error: {error}"
                out.dead.append((d, reason))
                out.dead_rows.append(consumer.dead_letter_outcome(mid, reason, event))
    return out


@flow(name=flows.queue_workers.SQS_WORKER.flow_name, **RESULTS)
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
    """The shipped flow, its consumer deciding through ``decide_retrying_malformed``."""
    consumer.QueueConsumer._decide = decide_retrying_malformed  # type: ignore[method-assign]
    return flows.queue_workers.sqs_worker.fn(**locals())
