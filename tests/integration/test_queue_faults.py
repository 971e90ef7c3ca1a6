"""The queue workers' consuming core under real faults, against real RabbitMQ and a moto SQS server: a
worker process killed with SIGKILL, connections cut by a TCP proxy in between, poison and malformed
messages dead-lettered. Every test has a stream of its own (``queue_lanes.Lane``), deleted at the end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from pipelines.queues.contracts import Batch
from pipelines.queues.events import DEAD_LETTERED
from tests.helpers import wait_for
from tests.integration.queue_lanes import REPO, Lane, TcpProxy, balanced, ids, small

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
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    restarted = lane.drain(target, batch_size=batch)
    m = restarted.metrics
    assert m.processed == n - committed
    assert m.duplicates >= 1  # the committed, unacked batch came back and was recognised
    assert balanced(m) and m.dead_lettered == 0
    rows = lane.rows(target)
    assert len(rows) == n and {r[0] for r in rows} == ids(n)
    assert lane.depths(target)[lane.names(target).main] == 0


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
