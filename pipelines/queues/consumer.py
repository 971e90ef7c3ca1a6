"""The consuming core both queue workers run: fetch a batch, settle every message of it, commit, then ack.

One ``QueueConsumer`` drives one ``Broker`` (RabbitMQ, SQS, or the in-memory fake) and one
``OutcomeStore`` (PostgreSQL, or the in-memory fake). A run ends when the queue is empty (nothing
arrived for ``idle_seconds`` and the broker has nothing pending: no message ready, none waiting out a
retry backoff), after ``max_messages`` deliveries, or when ``max_seconds`` have passed.

Each batch, in this order:

1. decode every body; one that is not an event (``MalformedMessageError``) is dead-lettered at once;
2. redelivered messages whose outcome already exists are duplicates: settled without handling;
3. handle the rest; a handler error schedules a retry (``attempt < max_attempts``, delay
   ``retry_base_seconds * 2**(attempt-1)`` capped at ``retry_max_seconds``), else a dead letter;
4. publish the dead letters and retries (broker-durable before anything is acked);
5. write every outcome (dead letters too, status ``dead_lettered``) in one transaction keyed by
   message id, ``ON CONFLICT DO NOTHING``: a row another delivery wrote first makes this one a duplicate;
6. ack the whole batch (RabbitMQ: one multiple-ack; SQS: one batch delete per 10).

At-least-once, outcome exactly once: a crash anywhere before 6 leaves the messages unacked, the broker
delivers them again, and step 2 or 5 turns the second delivery into a duplicate. A lost broker
connection (``BrokerUnavailableError``) abandons the batch in hand (the broker requeues it) and reconnects with
backoff; a lost database connection (``StoreUnavailableError``) retries the write with backoff.

Every delivery ends in exactly one bucket::

    received = processed + duplicates + retried + dead_lettered + requeued

``rejected`` counts the processed ones the business rules rejected, ``malformed`` the dead letters that
could not be parsed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.errors import BrokerUnavailableError, MalformedMessageError, StoreUnavailableError
from pipelines.queues.contracts import (
    Batch,
    Broker,
    CommitHook,
    ConsumerSettings,
    Delivery,
    Handler,
    Metrics,
    OutcomeStore,
    backoff_delay,
)
from pipelines.queues.events import (
    REJECTED,
    Outcome,
    body_id,
    dead_letter_outcome,
    decode_message,
    handle_event,
)

LOG = logging.getLogger("pipelines.queue")
_POLL_SECONDS = 1.0  # longest single wait for a message, so the budget and idleness are checked often


@dataclass
class _Settled:
    """What step 1-3 decided for a batch."""

    outcomes: list[Outcome] = field(default_factory=list)
    dead: list[tuple[Delivery, str]] = field(default_factory=list)
    dead_rows: list[Outcome] = field(default_factory=list)
    retries: list[tuple[Delivery, float, str]] = field(default_factory=list)
    duplicates: int = 0
    malformed: int = 0


class QueueConsumer:
    """Drain one queue into one outcome store. Use as a context manager, then ``run()``; or drive it batch
    by batch (``next_batch`` / ``process`` / ``finish``), as the Prefect flow does to get one task per batch."""

    def __init__(
        self,
        broker: Broker,
        store: OutcomeStore,
        settings: ConsumerSettings | None = None,
        *,
        handler: Handler = handle_event,
        log: logging.Logger | logging.LoggerAdapter[Any] | None = None,
        on_commit: CommitHook | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.broker = broker
        self.store = store
        self.settings = settings or ConsumerSettings()
        self.handler = handler
        self.log = log or LOG
        self.on_commit = on_commit
        self.clock = clock
        self.sleep = sleep
        self.metrics = Metrics()
        self.stopped: str | None = None
        self._started = clock()
        self._last_activity = self._started
        self._active = False
        self._fetched = 0
        self._batches = 0
        self._next_pending_check = 0.0

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> QueueConsumer:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        """Connect (with the same backoff as a reconnect) and start the clock."""
        try:
            self.broker.open()
        except BrokerUnavailableError as exc:
            self._reconnect(exc, count=False)
        self._started = self._last_activity = self.clock()

    def close(self) -> None:
        self.broker.close()
        self.store.close()

    def run(self) -> Metrics:
        while (batch := self.next_batch()) is not None:
            self.process(batch)
        return self.finish()

    def finish(self) -> Metrics:
        """Stamp the run's duration and log its metrics; returns them."""
        self.metrics.seconds = self.clock() - self._started
        self.log.info(
            "%s %s: stopped (%s) %s",
            self.broker.name,
            self.broker.queue,
            self.stopped,
            self.metrics.as_dict(),
        )
        return self.metrics

    # -- receiving ------------------------------------------------------------------------------
    def next_batch(self) -> Batch | None:
        """The next batch, or None when the run is over (``self.stopped`` says why)."""
        s = self.settings
        while self.stopped is None:
            now = self.clock()
            budget = None if s.max_seconds is None else self._started + s.max_seconds - now
            if s.max_messages is not None and self._fetched >= s.max_messages:
                self.stopped = "max_messages"
                break
            if budget is not None and budget <= 0:
                self.stopped = "max_seconds"
                break
            idle_limit = s.idle_seconds if self._active else (s.wait_seconds or s.idle_seconds)
            idle_deadline = self._last_activity + idle_limit
            first_wait = _POLL_SECONDS if now >= idle_deadline else min(_POLL_SECONDS, idle_deadline - now)
            if budget is not None:
                first_wait = min(first_wait, budget)
            want = (
                s.batch_size if s.max_messages is None else min(s.batch_size, s.max_messages - self._fetched)
            )
            try:
                deliveries = self.broker.fetch(want, max(0.0, first_wait), s.fill_seconds)
            except BrokerUnavailableError as exc:
                self._reconnect(exc)
                continue
            if deliveries:
                self._active = True
                self._last_activity = self.clock()
                self._next_pending_check = 0.0
                self._fetched += len(deliveries)
                self._batches += 1
                return Batch(self._batches, deliveries)
            now = self.clock()
            if now >= idle_deadline and now >= self._next_pending_check:
                self._next_pending_check = now + min(_POLL_SECONDS, idle_limit)
                try:
                    pending = self.broker.pending()
                except BrokerUnavailableError as exc:
                    self._reconnect(exc)
                    continue
                if pending == 0:
                    self.stopped = "empty"
                # else: retries are waiting out their backoff, or another consumer's messages may come back
        return None

    # -- settling -------------------------------------------------------------------------------
    def process(self, batch: Batch) -> dict[str, Any]:
        """Settle every delivery of ``batch`` (steps 1-6 of the module docstring); return the batch's counts."""
        started = self.clock()
        m = Metrics(received=len(batch), batches=1)
        settled = self._decide(batch.deliveries)
        m.duplicates, m.malformed = settled.duplicates, settled.malformed
        try:
            for delivery, reason in settled.dead:
                self.broker.dead_letter(delivery, reason)
            for delivery, delay, reason in settled.retries:
                self.broker.retry(delivery, delay, reason)
        except BrokerUnavailableError as exc:  # nothing acked, nothing written: the broker redelivers it all
            m.requeued, m.duplicates, m.malformed = len(batch), 0, 0
            self._reconnect(exc)
            return self._done(batch, m, started)
        m.dead_lettered, m.retried = len(settled.dead), len(settled.retries)
        rows = settled.outcomes + settled.dead_rows
        inserted = self._store_call(self.store.write, rows) if rows else set()
        claimed: set[str] = set()
        for outcome in settled.outcomes:  # a dead letter counts as one whether or not its row was new
            if outcome.message_id in inserted and outcome.message_id not in claimed:
                claimed.add(outcome.message_id)
                m.processed += 1
                m.rejected += int(outcome.status == REJECTED)
            else:
                m.duplicates += 1
        if self.on_commit is not None:
            self.on_commit(batch)
        try:
            self.broker.ack(batch.deliveries)
        except BrokerUnavailableError as exc:  # written but not acked: they come back and are duplicates then
            self._reconnect(exc)
        return self._done(batch, m, started)

    def _decide(self, deliveries: Sequence[Delivery]) -> _Settled:
        """Steps 1-3: decode, drop known duplicates, handle."""
        s = self.settings
        out = _Settled()
        decoded: list[tuple[Delivery, dict[str, Any] | None, str, str | None]] = []
        for d in deliveries:
            try:
                parsed = decode_message(d.body)
                decoded.append((d, parsed, parsed["message_id"], None))
            except MalformedMessageError as exc:
                decoded.append((d, None, d.message_id or body_id(d.body), f"malformed message: {exc}"))
        again = [mid for d, _, mid, _ in decoded if d.redelivered or d.attempt > 1]
        known = self._store_call(self.store.existing, again) if again else set()
        for d, event, mid, problem in decoded:
            if mid in known:
                out.duplicates += 1
                continue
            if event is None:
                out.malformed += 1
                out.dead.append((d, problem or "malformed message"))
                out.dead_rows.append(dead_letter_outcome(mid, problem or "malformed message"))
                continue
            try:
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
                    out.dead_rows.append(dead_letter_outcome(mid, reason, event))
        return out

    def _done(self, batch: Batch, m: Metrics, started: float) -> dict[str, Any]:
        m.seconds = self.clock() - started
        self.metrics.add(m)
        self.log.debug("%s %s: batch %d %s", self.broker.name, self.broker.queue, batch.number, m.as_dict())
        return {"batch": batch.number, **m.as_dict()}

    # -- recovery -------------------------------------------------------------------------------
    def _reconnect(self, exc: BrokerUnavailableError, *, count: bool = True) -> None:
        """Close, then reopen with backoff (0.5 s doubling to 10 s); give up after ``reconnect_limit`` tries."""
        if count:
            self.metrics.reconnects += 1
        self.log.warning(
            "%s %s: connection lost (%s); reconnecting", self.broker.name, self.broker.queue, exc
        )
        last: BrokerUnavailableError = exc
        for attempt in range(1, self.settings.reconnect_limit + 1):
            self.broker.close()
            self.sleep(backoff_delay(attempt, 0.5, 10.0))
            try:
                self.broker.open()
            except BrokerUnavailableError as again:
                last = again
                self.log.warning("%s: reconnect attempt %d failed: %s", self.broker.name, attempt, again)
                continue
            self.log.info("%s %s: reconnected", self.broker.name, self.broker.queue)
            return
        raise BrokerUnavailableError(
            f"{self.broker.name}: no connection after {self.settings.reconnect_limit} attempts: {last}"
        ) from last

    def _store_call(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        attempts = self.settings.store_attempts
        for attempt in range(1, attempts + 1):
            try:
                return fn(arg)
            except StoreUnavailableError as exc:
                if attempt == attempts:
                    raise
                self.metrics.store_retries += 1
                self.log.warning("outcome store unavailable (%s); retry %d/%d", exc, attempt, attempts - 1)
                self.store.reset()
                self.sleep(backoff_delay(attempt, 0.5, 10.0))
        raise AssertionError("unreachable")
