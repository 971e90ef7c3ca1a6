"""Rows on the data path: queue workers killed or cut off mid-batch, an ETL's loader killed or its
PostgreSQL connection terminated mid-COPY. Items are messages (by message id) or order rows (by key).

Reuses the integration tests' parts: ``queue_lanes.Lane`` (a stream of the row's own, deleted at the end)
and its worker child process, and the ETL tests' slowed loader and kill-mid-load."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from tests.faults.stack import Private
from tests.faults.table import Seen, tally
from tests.helpers import REPO, wait_for
from tests.integration.queue_lanes import Lane, balanced, ids

Say = Callable[[str], None]
RABBIT_N, SQS_N = 20_000, 200  # moto's SQS is O(queue length) per call: ~60 messages/s at best here


def _lane(p: Private, broker: str) -> Lane:
    from pipelines.adapters.rabbitmq import rabbitmq_url

    lane = Lane(broker, p.warehouse_url, rabbitmq_url() if broker == "rabbitmq" else p.settings.sqs_url)
    p.cleanups.append(lane.cleanup)
    return lane


def _worker_killed(p: Private, broker: str, n: int, batch: int) -> Seen:
    lane = _lane(p, broker)
    target = lane.target("killed")
    lane.publish(n, [target])
    marker = p.scratch / f"{target}.json"
    env = {**os.environ, "BRIDGE_WAREHOUSE_URL": lane.warehouse, "PYTHONPATH": str(REPO)}
    env["BRIDGE_SQS_ENDPOINT" if broker == "sqs" else "BRIDGE_RABBITMQ_URL"] = lane.url
    argv = ["-m", "tests.integration.queue_worker_child", broker, lane.stream, target, str(marker)]
    child = subprocess.Popen(
        [sys.executable, *argv, "--after-batches", "3", "--batch-size", str(batch)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: marker.exists() or child.poll() is not None, 120, "three batches", interval=0.2)
        committed = json.loads(marker.read_text())["committed"]
        os.kill(child.pid, signal.SIGKILL)
        killed = child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    m = lane.drain(target, batch_size=batch, max_seconds=300.0).metrics
    seen = [r[0] for r in lane.rows(target)]
    left = lane.depths(target)[lane.names(target).main]
    held = killed and balanced(m) and m.dead_lettered == 0 and m.duplicates >= 1 and left == 0
    return Seen(
        f"killed after {committed} committed (last batch unacked); rerun: {m.processed} processed, "
        f"{m.duplicates} redelivered recognised, queue left {left}",
        held,
        tally(ids(n), seen),
    )


def rabbitmq_worker_killed(p: Private, say: Say) -> Seen:
    return _worker_killed(p, "rabbitmq", RABBIT_N, 500)


def sqs_worker_killed(p: Private, say: Say) -> Seen:
    return _worker_killed(p, "sqs", SQS_N, 20)


def _ctl(*args: str) -> list[list[str]]:
    flags = ["-q", "--no-table-headers"] if args[0].startswith("list_") else ["-q"]
    out = subprocess.run(
        ["rabbitmqctl", *flags, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def consumer_connection(queue: str) -> tuple[str, str]:
    """The pid and name of the connection consuming ``queue`` (consumer -> channel -> connection, as the
    broker lists them): only our own queue's consumer, never another client's connection."""
    channels = {row[1] for row in _ctl("list_consumers", "queue_name", "channel_pid") if row[0] == queue}
    assert len(channels) == 1, f"expected one consumer on {queue}, saw {len(channels)}"
    conns = {row[1] for row in _ctl("list_channels", "pid", "connection") if row[0] in channels}
    found = [(row[0], row[1]) for row in _ctl("list_connections", "pid", "name") if row[0] in conns]
    assert len(found) == 1, f"expected one connection for {queue}'s consumer, saw {found}"
    return found[0]


def rabbitmq_connection_closed(p: Private, say: Say) -> Seen:
    lane = _lane(p, "rabbitmq")
    n = 5_000
    target = lane.target("closed")
    lane.publish(n, [target])
    closed: list[str] = []

    def close_after_first_commit(batch: Any) -> None:
        if batch.number == 1:  # written, not yet acked: the worst moment
            pid, name = consumer_connection(lane.names(target).main)
            _ctl("close_connection", pid, "bridge faults: closed by the broker")  # it takes the pid
            closed.append(name)

    m = lane.drain(target, batch_size=500, on_commit=close_after_first_commit).metrics
    seen = [r[0] for r in lane.rows(target)]
    left = lane.depths(target)[lane.names(target).main]
    held = len(closed) == 1 and m.reconnects >= 1 and balanced(m) and left == 0
    return Seen(
        f"connection {closed[0] if closed else '?'} closed by rabbitmqctl; {m.reconnects} reconnect(s), "
        f"{m.duplicates} redelivered recognised, queue left {left}",
        held,
        tally(ids(n), seen),
    )


def _etl(p: Private, name: str, fault: Callable[[str, str, str], str]) -> Seen:
    """Load, change the source, ``fault`` the next load, check the target as before; rerun, check it equal
    to a clean load of the same source into a target of its own."""
    from devkit.etl_seed import seed_etl
    from pipelines.etl.tables import ALL_TABLES, ORDERS
    from pipelines.jobs.etl import full_migration_weekly, prepare_etl_target
    from tests.integration.etl_helpers import DAY, dump, schema_tables, source_rows, state

    src, wh = p.source_url, p.warehouse_url
    target, reference = p.name(f"{name}_t"), p.name(f"{name}_ref")
    seed_etl(src, 1200, 21, i_own_this_database=True)
    full_migration_weekly(src, wh, target, DAY)
    before = {t.name: dump(wh, target, t) for t in ALL_TABLES}
    state_before = state(wh, target)
    seed_etl(src, 1300, 22, i_own_this_database=True)  # a new source: every table changes
    what = fault(src, wh, target)
    intact = {t.name: dump(wh, target, t) for t in ALL_TABLES} == before and state(wh, target) == state_before
    intact = intact and not any(t.endswith("__swap") for t in schema_tables(wh, target))
    full_migration_weekly(src, wh, target, DAY)
    prepare_etl_target(wh, reference)
    full_migration_weekly(src, wh, reference, DAY)
    identical = all(dump(wh, target, t) == dump(wh, reference, t) for t in ALL_TABLES)
    sent = [row[0] for row in source_rows(src, ORDERS)]
    seen = [row[0] for row in dump(wh, target, ORDERS)]
    return Seen(
        f"{what}; target {'intact' if intact else 'CHANGED'}; rerun {'identical to' if identical else 'DIFFERS from'} a clean load",
        intact and identical,
        tally(sent, seen),
    )


def etl_killed_mid_load(p: Private, say: Say) -> Seen:
    from tests.integration.test_etl_pipelines import _kill_mid_load

    def kill(src: str, wh: str, target: str) -> str:
        _kill_mid_load("full_migration_weekly", src, wh, target)
        return "loader SIGKILLed mid-COPY"

    return _etl(p, "etlkill", kill)


def pg_terminated_mid_copy(p: Private, say: Say) -> Seen:
    from pipelines.adapters import db
    from tests.integration.etl_helpers import DAY
    from tests.integration.test_etl_pipelines import _SLOW_LOADER

    def terminate(src: str, wh: str, target: str) -> str:
        env = {**os.environ, "BRIDGE_ETL_CHUNK_BYTES": "4096", "PYTHONPATH": str(REPO)}
        argv = [sys.executable, "-c", _SLOW_LOADER, "full_migration_weekly", src, wh, target, DAY]
        proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stderr is not None
        try:
            chunks = 0
            while chunks < 4:
                line = proc.stdout.readline()
                assert line, f"loader ended early: {proc.stderr.read()[-300:]}"
                chunks += line.strip() == "chunk"
            with db.warehouse_connection(wh) as conn:
                pids = conn.execute(
                    "SELECT pg_terminate_backend(pid), pid FROM pg_stat_progress_copy WHERE datname = current_database()"
                ).fetchall()
            assert pids and all(r[0] for r in pids), "no COPY to terminate"
            rc = proc.wait(60)
            last = (proc.stderr.read().strip().splitlines() or ["?"])[-1]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        assert rc != 0, "the loader went on as if its COPY had landed"
        return f"COPY's backend terminated, loader exit {rc} ({last[:70]})"

    return _etl(p, "pgterm", terminate)


ROWS: list[tuple[str, str, str, Callable[[Private, Say], Seen]]] = [
    (
        "rabbitmq-kill",
        f"RabbitMQ worker SIGKILLed mid-batch ({RABBIT_N:,})",
        "all outcomes after the rerun, none twice",
        rabbitmq_worker_killed,
    ),
    (
        "sqs-kill",
        f"SQS worker SIGKILLed mid-batch ({SQS_N:,}, moto)",
        "all outcomes after the rerun, none twice",
        sqs_worker_killed,
    ),
    (
        "rabbitmq-close",
        "RabbitMQ connection closed by the broker (rabbitmqctl)",
        "reconnects; all outcomes, none twice",
        rabbitmq_connection_closed,
    ),
    (
        "pg-terminate",
        "loader's PostgreSQL backend terminated mid-COPY",
        "target intact; rerun = clean load",
        pg_terminated_mid_copy,
    ),
    ("etl-kill", "ETL loader SIGKILLed mid-COPY", "target intact; rerun = clean load", etl_killed_mid_load),
]
