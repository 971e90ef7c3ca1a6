"""The queue workers' consuming core against real RabbitMQ (127.0.0.1:5672) and a real SQS endpoint (a moto
server of this module's own), writing into the session's PostgreSQL warehouse.

Every test gets a stream of its own and targets named after the session, so queues, exchanges and
outcome tables never meet another test's or a developer's; queues are deleted at the end of each test.
Faults are real: a worker process killed with SIGKILL, connections cut by a TCP proxy in between.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from devkit.producer import publish_orders
from pipelines.adapters.outcome_store import prepare_outcomes, read_outcomes
from pipelines.adapters.rabbitmq import rabbitmq_url
from pipelines.queues.consumer import QueueConsumer
from pipelines.queues.contracts import Batch, ConsumerSettings, Metrics
from pipelines.queues.events import DEAD_LETTERED, message_id_for
from pipelines.queues.names import QueueNames
from pipelines.queues.worker import broker_admin, open_consumer, resolve_worker_run
from tests.helpers import free_port, wait_for

REPO = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_hex(3)
SEED = 4242
BROKERS = ("rabbitmq", "sqs")
_streams = itertools.count(1)


@pytest.fixture(scope="module")
def sqs_endpoint() -> Iterator[str]:
    """A moto server of this module's own, on a free port, stopped at the end."""
    port = free_port()
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{url}/moto-api/", timeout=2).status_code < 500
        except requests.RequestException:
            return False

    try:
        wait_for(up, 30, "the moto server", interval=0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


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


@pytest.fixture(params=BROKERS)
def lane(request: pytest.FixtureRequest, data_urls: dict[str, str]) -> Iterator[Lane]:
    broker = request.param
    url = rabbitmq_url() if broker == "rabbitmq" else request.getfixturevalue("sqs_endpoint")
    lane = Lane(broker, data_urls["BRIDGE_WAREHOUSE_URL"], url)
    try:
        yield lane
    finally:
        lane.cleanup()


@pytest.fixture
def rabbit(data_urls: dict[str, str]) -> Iterator[Lane]:
    lane = Lane("rabbitmq", data_urls["BRIDGE_WAREHOUSE_URL"], rabbitmq_url())
    try:
        yield lane
    finally:
        lane.cleanup()


def ids(count: int) -> set[str]:
    return {message_id_for(SEED, i) for i in range(count)}


def balanced(m: Metrics) -> bool:
    return m.received == m.processed + m.duplicates + m.retried + m.dead_lettered + m.requeued


def small(lane: Lane, rabbitmq: int, sqs: int) -> int:
    """Message counts: moto's SQS is O(queue length) per call, so its tests use fewer."""
    return rabbitmq if lane.broker == "rabbitmq" else sqs


# -- draining, fanout, competing consumers ---------------------------------------------------------------


def test_a_run_drains_its_queue_and_a_shadow_target_keeps_its_own_copy(lane: Lane) -> None:
    n = small(lane, 400, 120)
    primary, shadow = lane.target("primary"), lane.target("shadow")
    sent = lane.publish(n, [primary, shadow], duplicates=5)
    assert sent["published"] == n + 5
    first = lane.drain(primary, batch_size=50)
    m = first.metrics
    assert (first.stopped, m.received, m.processed, m.duplicates) == ("empty", n + 5, n, 5)
    assert {r[0] for r in lane.rows(primary)} == ids(n) and len(lane.rows(primary)) == n
    assert lane.depths(shadow)[lane.names(shadow).main] == n + 5  # the primary took none of the shadow's
    second = lane.drain(shadow, batch_size=50)
    assert second.metrics.processed == n
    assert lane.rows(shadow) == lane.rows(primary)  # same messages, same rules: identical outcome tables
    assert lane.depths(primary)[lane.names(primary).main] == lane.depths(shadow)[lane.names(shadow).main] == 0


def test_three_concurrent_consumers_write_every_outcome_exactly_once(lane: Lane) -> None:
    n = small(lane, 600, 150)
    target = lane.target("crowd")
    prepare_outcomes(target, lane.warehouse)
    broker_admin(lane.broker).prepare(lane.names(target), lane.url)
    results: list[QueueConsumer] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(lane.drain(target, batch_size=20, wait_seconds=20.0, idle_seconds=1.5))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    if lane.broker == "rabbitmq":
        from pipelines.adapters.rabbitmq import connect

        def consumers() -> bool:
            conn = connect(lane.url)
            try:
                return (
                    conn.channel().queue_declare(lane.names(target).main, passive=True).method.consumer_count
                    == 3
                )
            finally:
                conn.close()

        wait_for(consumers, 30, "three consumers on the queue", interval=0.2)
    else:
        time.sleep(2.0)  # SQS has no consumer count: give the three long polls time to start
    lane.publish(n, [target], duplicates=10)
    for t in threads:
        t.join(120)
    assert not errors, errors
    metrics = [c.metrics for c in results]
    assert len(metrics) == 3 and all(balanced(m) for m in metrics)
    assert sum(m.processed for m in metrics) == n
    # the 10 published twice, plus any SQS redelivered after its 3 s visibility timeout ran out
    assert sum(m.duplicates for m in metrics) >= 10
    assert sum(m.received for m in metrics) == n + sum(m.duplicates for m in metrics)
    if lane.broker == "rabbitmq":
        assert sum(m.duplicates for m in metrics) == 10
    assert sum(m.received > 0 for m in metrics) >= (3 if lane.broker == "rabbitmq" else 2), metrics
    rows = lane.rows(target)
    assert len(rows) == n and {r[0] for r in rows} == ids(n)


def test_a_run_stops_at_max_messages_and_at_its_time_budget(rabbit: Lane) -> None:
    target = rabbit.target("budget")
    rabbit.publish(100, [target])
    capped = rabbit.drain(target, batch_size=10, max_messages=30)
    assert (capped.stopped, capped.metrics.received, len(rabbit.rows(target))) == ("max_messages", 30, 30)
    assert rabbit.depths(target)[rabbit.names(target).main] == 70  # the prefetched rest went back
    empty = rabbit.target("empty")
    started = time.monotonic()
    timed = rabbit.drain(empty, max_seconds=1.0, wait_seconds=30.0)
    assert timed.stopped == "max_seconds" and time.monotonic() - started < 5


# -- faults ----------------------------------------------------------------------------------------------


def test_a_worker_killed_mid_batch_loses_nothing_and_writes_nothing_twice(lane: Lane, tmp_path: Path) -> None:
    n, batch = small(lane, 300, 100), small(lane, 25, 20)
    target = lane.target("killed")
    lane.publish(n, [target])
    marker = tmp_path / "stalled.json"
    env = {**os.environ, "BRIDGE_WAREHOUSE_URL": lane.warehouse, "PYTHONPATH": str(REPO)}
    env["BRIDGE_SQS_ENDPOINT" if lane.broker == "sqs" else "BRIDGE_RABBITMQ_URL"] = lane.url
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.queue_worker_child",
            lane.broker,
            lane.stream,
            target,
            str(marker),
            "--after-batches",
            "2",
            "--batch-size",
            str(batch),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(
            lambda: marker.exists() or child.poll() is not None,
            60,
            "the worker to commit two batches",
            interval=0.2,
        )
        assert marker.exists(), child.communicate()[0]
        committed = json.loads(marker.read_text())["committed"]
        assert len(lane.rows(target)) == committed  # batch 2 is written, not acked
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    restarted = lane.drain(target, batch_size=batch)
    m = restarted.metrics
    assert m.processed == n - committed
    assert m.duplicates >= 1  # the committed, unacked batch came back and was recognised
    assert balanced(m) and m.dead_lettered == 0
    rows = lane.rows(target)
    assert len(rows) == n and {r[0] for r in rows} == ids(n)
    assert lane.depths(target)[lane.names(target).main] == 0


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


def test_a_dropped_broker_connection_reconnects_and_goes_on(lane: Lane) -> None:
    from urllib.parse import urlsplit

    n = small(lane, 300, 80)
    target = lane.target("dropped")
    lane.publish(n, [target])
    parts = urlsplit(lane.url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5672))
    via_proxy = lane.url.replace(f":{parts.port}", f":{proxy.port}", 1)

    def cut_after_first_commit(batch: Batch) -> None:
        if batch.number == 1:  # written, not yet acked: the worst moment
            proxy.cut(down_for=0.0 if lane.broker == "rabbitmq" else 1.0)

    options = {} if lane.broker == "rabbitmq" else {"client_attempts": 1}
    try:
        c = lane.drain(
            target, url=via_proxy, batch_size=25, on_commit=cut_after_first_commit, broker_options=options
        )
    finally:
        proxy.close()
    m = c.metrics
    assert proxy.cuts >= 1 and m.reconnects >= 1
    assert m.processed == n and m.duplicates >= 1 and balanced(m)  # the first batch came back once
    rows = lane.rows(target)
    assert len(rows) == n and {r[0] for r in rows} == ids(n)
    assert lane.depths(target)[lane.names(target).main] == 0


def test_a_poison_message_goes_to_the_dlq_after_n_tries(lane: Lane) -> None:
    target = lane.target("poison")
    lane.publish(30, [target], poison=1)
    c = lane.drain(target, max_attempts=3, retry_base_seconds=small(lane, 0.2, 1.0))
    m = c.metrics
    assert (m.received, m.processed, m.retried, m.dead_lettered, m.malformed) == (32, 29, 2, 1, 0)
    [dead] = lane.dead(target)
    assert dead["attempts"] == 3 and dead["source_queue"] == lane.names(target).main
    assert (
        dead["reason"] == "failed 3 attempt(s); last error: EventError: order.items must be a list, got str"
    )
    rows = {r[0]: r for r in lane.rows(target)}
    assert len(rows) == 30 and rows[dead["message_id"]][4] == DEAD_LETTERED
    assert rows[dead["message_id"]][8] == dead["reason"]
    assert sum(lane.depths(target).values()) == 1  # only the dead letter is left


def test_malformed_json_goes_to_the_dlq_with_the_parse_error(lane: Lane) -> None:
    target = lane.target("malformed")
    lane.publish(30, [target], malformed=1)
    m = lane.drain(target, max_attempts=3).metrics
    assert (m.received, m.processed, m.retried, m.dead_lettered, m.malformed) == (30, 29, 0, 1, 1)
    [dead] = lane.dead(target)
    assert dead["attempts"] == 1
    assert dead["reason"].startswith("malformed message: invalid JSON: ")  # json.loads's own message
    assert dead["message_id"] in ids(30)  # named by the broker-level id: the body has none readable
    assert dead["body"].startswith(b'{"message_id":') and len(dead["body"]) == 40
