"""Helpers of the queue-worker tests (``test_queue_workers``, ``test_queue_faults``): a ``Lane`` (one test's
stream on one broker), message-count helpers, and a TCP proxy that cuts connections. Fixtures:
``conftest.py``."""

from __future__ import annotations

import itertools
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devkit.producer import publish_orders
from pipelines.adapters.outcome_store import prepare_outcomes, read_outcomes
from pipelines.jobs.queue_worker import broker_admin, open_consumer, resolve_worker_run
from pipelines.queues.consumer import QueueConsumer
from pipelines.queues.contracts import Batch, ConsumerSettings, Metrics
from pipelines.queues.events import message_id_for
from pipelines.queues.names import QueueNames

REPO = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_hex(3)
SEED = 4242
BROKERS = ("rabbitmq", "sqs")
_streams = itertools.count(1)


@dataclass
class Lane:
    """One test's stream on one broker: publish, consume, look at queues and outcome tables, clean up."""

    broker: str
    warehouse: str
    url: str  # AMQP URL or SQS endpoint
    stream: str = field(default_factory=lambda: f"s{TOKEN}_{next(_streams)}")
    targets: set[str] = field(default_factory=set)

    def target(self, name: str) -> str:
        target = f"q{TOKEN}_{self.stream.rsplit('_', 1)[1]}_{name}"
        self.targets.add(target)
        return target

    def names(self, target: str) -> QueueNames:
        return QueueNames(self.stream, target)

    def publish(self, count: int, targets: list[str], **kinds: int) -> dict[str, Any]:
        return publish_orders(
            self.broker, count, SEED, targets=targets, stream=self.stream, url=self.url, **kinds
        )

    def broker_options(self, url: str | None = None, **extra: Any) -> dict[str, Any]:
        if self.broker == "rabbitmq":
            return {"url": url or self.url, **extra}
        return {"endpoint": url or self.url, "visibility_timeout": 3, **extra}

    @contextmanager
    def consumer(
        self,
        target: str,
        *,
        url: str | None = None,
        on_commit: Callable[[Batch], None] | None = None,
        broker_options: dict[str, Any] | None = None,
        **settings: Any,
    ) -> Iterator[QueueConsumer]:
        prepare_outcomes(target, self.warehouse)
        broker_admin(self.broker).prepare(self.names(target), self.url)
        run = resolve_worker_run(self.broker, target, self.stream)
        options = {"idle_seconds": 1.0, "max_seconds": 90.0, "retry_base_seconds": 0.2, **settings}
        with open_consumer(
            run,
            ConsumerSettings(**options),
            warehouse=self.warehouse,
            on_commit=on_commit,
            broker_options=self.broker_options(url, **(broker_options or {})),
        ) as consumer:
            yield consumer

    def drain(self, target: str, **kwargs: Any) -> QueueConsumer:
        with self.consumer(target, **kwargs) as consumer:
            consumer.run()
        return consumer

    def rows(self, target: str) -> list[tuple[Any, ...]]:
        return read_outcomes(target, self.warehouse)

    def depths(self, target: str) -> dict[str, int]:
        return dict(broker_admin(self.broker).queue_depths(self.names(target), self.url))

    def dead(self, target: str) -> list[dict[str, Any]]:
        return list(broker_admin(self.broker).read_dead_letters(self.names(target), self.url))

    def cleanup(self) -> None:
        if self.targets:
            broker_admin(self.broker).delete_stream(self.stream, sorted(self.targets), self.url)


def ids(count: int) -> set[str]:
    return {message_id_for(SEED, i) for i in range(count)}


def balanced(m: Metrics) -> bool:
    return m.received == m.processed + m.duplicates + m.retried + m.dead_lettered + m.requeued


def small(lane: Lane, rabbitmq: int, sqs: int) -> int:
    """Message counts: moto's SQS is O(queue length) per call, so its tests use fewer."""
    return rabbitmq if lane.broker == "rabbitmq" else sqs


class TcpProxy:
    """A TCP relay that can cut every connection through it, and refuse new ones for a while."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down_until = 0.0
        self.cuts = 0
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if time.monotonic() < self.down_until:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self, down_for: float = 0.0) -> None:
        self.down_until = time.monotonic() + down_for
        with self._lock:
            sockets, self._open = self._open, []
        for s in sockets:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self.cuts += 1

    def close(self) -> None:
        self.listener.close()
        self.cut()
