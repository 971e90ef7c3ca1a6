"""In-memory fakes of a broker and an outcome store, for tests and for trying the consumer without services.

``MemoryBroker`` behaves like one RabbitMQ queue with its retry and dead-letter queues: unacked deliveries
return to the front of the queue, flagged redelivered, when the connection closes; a retried message
comes back after its delay with ``attempt + 1``. ``MemoryOutcomeStore`` is a dict keyed by message id.
Both can be told to fail: ``fail("ack")`` makes the next ``ack`` raise ``BrokerUnavailableError``.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from pipelines.errors import BrokerUnavailableError, StoreUnavailableError
from pipelines.queues.contracts import Delivery
from pipelines.queues.events import Outcome


@dataclass(frozen=True)
class DeadLetter:
    body: bytes
    message_id: str | None
    reason: str
    attempts: int


class _Faults:
    def __init__(self) -> None:
        self._left: dict[str, int] = {}

    def fail(self, operation: str, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` raise."""
        self._left[operation] = self._left.get(operation, 0) + times

    def _check(self, operation: str, error: type[ConnectionError]) -> None:
        if self._left.get(operation, 0) > 0:
            self._left[operation] -= 1
            raise error(f"injected failure of {operation}")


class MemoryBroker(_Faults):
    name = "memory"

    def __init__(self, queue: str = "memory") -> None:
        super().__init__()
        self.queue = queue
        self.ready: deque[Delivery] = deque()
        self.unacked: dict[int, Delivery] = {}
        self.delayed: list[tuple[float, Delivery]] = []
        self.dead: list[DeadLetter] = []
        self.acked: list[Delivery] = []
        self.is_open = False
        self.opens = 0
        self._tags = itertools.count(1)

    # -- test side --------------------------------------------------------------------------------
    def publish(self, body: bytes, message_id: str | None = None) -> None:
        self.ready.append(Delivery(body, message_id))

    def publish_all(self, items: Iterable[tuple[bytes, str | None]]) -> None:
        for body, message_id in items:
            self.publish(body, message_id)

    # -- Broker -----------------------------------------------------------------------------------
    def open(self) -> None:
        self._check("open", BrokerUnavailableError)
        self.is_open = True
        self.opens += 1

    def close(self) -> None:
        """Like a dropped connection: unacked deliveries go back to the front, flagged redelivered."""
        for tag in sorted(self.unacked, reverse=True):
            d = self.unacked.pop(tag)
            self.ready.appendleft(d._replace(redelivered=True, handle=None))
        self.is_open = False

    def _release_due(self) -> None:
        now = time.monotonic()
        due = [d for at, d in self.delayed if at <= now]
        self.delayed = [(at, d) for at, d in self.delayed if at > now]
        self.ready.extend(due)

    def fetch(self, max_count: int, first_wait: float, fill_wait: float) -> list[Delivery]:
        self._check("fetch", BrokerUnavailableError)
        if not self.is_open:
            raise BrokerUnavailableError("not connected")
        self._release_due()
        if not self.ready and first_wait > 0:
            time.sleep(min(first_wait, 0.01))
            self._release_due()
        out: list[Delivery] = []
        while self.ready and len(out) < max_count:
            tag = next(self._tags)
            d = self.ready.popleft()._replace(handle=tag)
            self.unacked[tag] = d
            out.append(d)
        return out

    def retry(self, delivery: Delivery, delay: float, reason: str) -> None:
        self._check("retry", BrokerUnavailableError)
        again = Delivery(delivery.body, delivery.message_id, delivery.attempt + 1, False)
        self.delayed.append((time.monotonic() + delay, again))

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        self._check("dead_letter", BrokerUnavailableError)
        self.dead.append(DeadLetter(delivery.body, delivery.message_id, reason, delivery.attempt))

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        self._check("ack", BrokerUnavailableError)
        for d in deliveries:
            if self.unacked.pop(d.handle, None) is not None:
                self.acked.append(d)

    def pending(self) -> int:
        self._check("pending", BrokerUnavailableError)
        self._release_due()
        return len(self.ready) + len(self.delayed)


class MemoryOutcomeStore(_Faults):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, Outcome] = {}
        self.writes = 0
        self.resets = 0

    def existing(self, message_ids: Collection[str]) -> set[str]:
        self._check("existing", StoreUnavailableError)
        return {m for m in message_ids if m in self.rows}

    def write(self, rows: Sequence[Outcome]) -> set[str]:
        self._check("write", StoreUnavailableError)
        inserted = set()
        for row in rows:
            if row.message_id not in self.rows:
                self.rows[row.message_id] = row
                inserted.add(row.message_id)
        self.writes += 1
        return inserted

    def reset(self) -> None:
        self.resets += 1

    def close(self) -> None:
        pass
