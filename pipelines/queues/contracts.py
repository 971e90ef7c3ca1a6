"""What the consuming core talks to and how it is tuned: the ``Delivery`` and ``Batch`` it handles, the
``Broker`` and ``OutcomeStore`` protocols the adapters (and the in-memory fakes) implement, the run's
``ConsumerSettings``, its ``Metrics``, and the retry backoff. No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, NamedTuple, Protocol

from pipelines.queues.events import Outcome


class Delivery(NamedTuple):
    """One message as received. ``handle`` is the broker's own reference (delivery tag, receipt handle)."""

    body: bytes
    message_id: str | None = None  # the broker-level id (AMQP property / SQS attribute), if any
    attempt: int = 1  # 1 on first delivery; raised by each retry
    redelivered: bool = False  # the broker says it may have been delivered before
    handle: Any = None


class Batch:
    """The deliveries of one batch. A plain class on purpose: Prefect passes it to a task as is, without
    walking into it."""

    __slots__ = ("deliveries", "number")

    def __init__(self, number: int, deliveries: list[Delivery]) -> None:
        self.number = number
        self.deliveries = deliveries

    def __len__(self) -> int:
        return len(self.deliveries)

    def __repr__(self) -> str:
        return f"Batch(number={self.number}, size={len(self.deliveries)})"


class Broker(Protocol):
    """One queue of one broker. Every method may raise ``BrokerUnavailableError``."""

    name: str
    queue: str

    def open(self) -> None: ...

    def close(self) -> None:
        """Drop the connection; never raises. Whatever is not acked goes back to the queue."""

    def fetch(self, max_count: int, first_wait: float, fill_wait: float) -> list[Delivery]:
        """Up to ``max_count`` deliveries: wait up to ``first_wait`` s for the first, then up to
        ``fill_wait`` s more for the rest."""

    def retry(self, delivery: Delivery, delay: float, reason: str) -> None:
        """Make the message come back after ``delay`` s with ``attempt + 1`` (durably, before any ack)."""

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Put a copy in the dead-letter queue with ``reason`` and the attempt count (durably)."""

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Every delivery of the batch is settled: remove what has to go from the queue."""

    def pending(self) -> int:
        """Messages that may still reach a consumer: ready ones and those waiting out a backoff."""


class OutcomeStore(Protocol):
    """Where outcomes go, keyed by message id. Methods may raise ``StoreUnavailableError``."""

    def existing(self, message_ids: Collection[str]) -> set[str]: ...

    def write(self, rows: Sequence[Outcome]) -> set[str]:
        """Insert the rows whose message id is new, commit; return the ids inserted."""

    def reset(self) -> None:
        """After a ``StoreUnavailableError``: drop the connection so the next call opens a new one."""

    def close(self) -> None: ...


Handler = Callable[[Mapping[str, Any]], Outcome]
CommitHook = Callable[[Batch], None]


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): ``base * 2**(attempt-1)``, capped."""
    return float(min(cap, base * (2 ** max(0, attempt - 1))))


@dataclass(frozen=True)
class ConsumerSettings:
    """How much one run drains and how it retries. ``wait_seconds``: how long a run waits for its first
    message (default ``idle_seconds``)."""

    batch_size: int = 500
    max_messages: int | None = None
    max_seconds: float | None = 300.0
    idle_seconds: float = 2.0
    wait_seconds: float | None = None
    fill_seconds: float = 0.05
    max_attempts: int = 5
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    reconnect_limit: int = 10
    store_attempts: int = 5

    def __post_init__(self) -> None:
        def positive(name: str, value: float | None, allow_none: bool = False) -> None:
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")

        for name in ("batch_size", "max_attempts", "reconnect_limit", "store_attempts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.max_messages is not None and (
            not isinstance(self.max_messages, int) or self.max_messages < 1
        ):
            raise ValueError(f"max_messages must be an integer >= 1 or None, got {self.max_messages!r}")
        positive("max_seconds", self.max_seconds, allow_none=True)
        positive("idle_seconds", self.idle_seconds)
        positive("wait_seconds", self.wait_seconds, allow_none=True)
        positive("retry_max_seconds", self.retry_max_seconds)
        for name in ("fill_seconds", "retry_base_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")


@dataclass
class Metrics:
    """Counts of one run (or one batch); see the module docstring for the buckets."""

    received: int = 0
    processed: int = 0
    duplicates: int = 0
    retried: int = 0
    dead_lettered: int = 0
    requeued: int = 0
    rejected: int = 0
    malformed: int = 0
    batches: int = 0
    reconnects: int = 0
    store_retries: int = 0
    seconds: float = 0.0

    @property
    def msg_per_s(self) -> float:
        return self.received / self.seconds if self.seconds > 0 else 0.0

    def add(self, other: Metrics) -> None:
        for f in fields(self):
            if f.name != "seconds":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["seconds"] = round(self.seconds, 3)
        out["msg_per_s"] = round(self.msg_per_s, 1)
        return out
