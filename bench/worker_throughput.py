"""How fast the queue workers' consuming core is, against a raw pika consumer doing nothing but json.loads.

    .venv/bin/python bench/worker_throughput.py [--messages 200000] [--sqs-messages 500] [--rounds 1]

Needs RabbitMQ ($BRIDGE_RABBITMQ_URL, default 127.0.0.1:5672) and PostgreSQL ($BRIDGE_WAREHOUSE_URL,
default the local bridge_warehouse). SQS: $BRIDGE_SQS_ENDPOINT, else a moto server of its own. Each
measurement publishes ``--messages`` order events (~220 bytes) to a fresh queue first, then times the
consumer from its start (connected, queue full) to its last ack:

- raw: pika, prefetch 1000, basic_consume, ``json.loads`` only, one multiple-ack every 500;
- core, 1 process: ``QueueConsumer`` doing its real work (decode, rules, COPY + INSERT ... ON CONFLICT
  into PostgreSQL, commit, multiple-ack), batch 500, prefetch 1000;
- core, 2 processes: the same, two competing processes on one queue (wall time of both together);
- SQS: the core against the SQS endpoint, next to a raw receive/delete loop. Moto's SQS does O(queue
  length) work per call, so this is a figure for moto far more than for the core.

Goal: core >= 0.5x raw in one process, more with two. Queues and outcome schemas it creates are removed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devkit.producer import order_messages  # noqa: E402
from pipelines.adapters import db  # noqa: E402
from pipelines.jobs.queue_worker import open_consumer, prepare_worker_target, resolve_worker_run  # noqa: E402
from pipelines.queues.contracts import ConsumerSettings  # noqa: E402
from pipelines.queues.names import QueueNames  # noqa: E402

SEED = 2024
BATCH = 500
PREFETCH = 1000


# -- RabbitMQ --------------------------------------------------------------------------------------------


def publish_rabbitmq(stream: str, target: str, count: int) -> float:
    from pipelines.adapters import rabbitmq_admin

    started = time.perf_counter()
    rabbitmq_admin.publish(order_messages(count, SEED), stream, [target])
    return count / (time.perf_counter() - started)


def raw_pika(stream: str, target: str, count: int) -> float:
    """The reference: prefetch 1000, json.loads only, multiple-ack every 500."""
    from pipelines.adapters.rabbitmq import connect

    conn = connect()
    channel = conn.channel()
    channel.basic_qos(prefetch_count=PREFETCH)
    state = {"n": 0, "first": 0.0, "last": 0.0}

    def on_message(ch: Any, method: Any, _props: Any, body: bytes) -> None:
        if state["n"] == 0:
            state["first"] = time.perf_counter()
        json.loads(body)
        state["n"] += 1
        if state["n"] % 500 == 0 or state["n"] == count:
            ch.basic_ack(method.delivery_tag, multiple=True)
        if state["n"] == count:
            state["last"] = time.perf_counter()
            ch.stop_consuming()

    channel.basic_consume(QueueNames(stream, target).main, on_message)
    channel.start_consuming()
    conn.close()
    return count / (state["last"] - state["first"])


def core_window(
    broker: str,
    stream: str,
    target: str,
    max_messages: int | None,
    wait: float,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the core on a queue already filled; return what it received and the wall-clock window from its
    start to its last ack (every delivery must have written a new outcome: the target is fresh)."""
    run = resolve_worker_run(broker, target, stream)
    settings = ConsumerSettings(
        batch_size=BATCH if broker == "rabbitmq" else 100,
        max_messages=max_messages,
        max_seconds=600.0,
        idle_seconds=1.0,
        wait_seconds=wait,
    )
    with open_consumer(run, settings, broker_options=options) as consumer:
        first = last = time.time()  # connected; the messages are already waiting
        while (batch := consumer.next_batch()) is not None:
            consumer.process(batch)
            last = time.time()
        metrics = consumer.finish()
    if metrics.processed != metrics.received:
        sys.exit(f"bench: {metrics.received} received but {metrics.processed} written: {metrics.as_dict()}")
    return {"received": metrics.received, "processed": metrics.processed, "first": first, "last": last}


def core_processes(stream: str, target: str, count: int, processes: int) -> float:
    """``processes`` competing consumers, each in its own process; aggregate msg/s over their joint window."""
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", stream, target], stdout=subprocess.PIPE, text=True, cwd=REPO
        )
        for _ in range(processes)
    ]
    reports = []
    for child in children:
        out, _ = child.communicate(timeout=900)
        if child.returncode != 0:
            sys.exit(f"bench: a consumer process failed ({child.returncode})")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    received = sum(r["received"] for r in reports)
    if received != count:
        sys.exit(f"bench: consumers received {received} messages, expected {count}")
    return count / (max(r["last"] for r in reports) - min(r["first"] for r in reports))


# -- SQS -------------------------------------------------------------------------------------------------


def moto_server() -> tuple[str, subprocess.Popen[bytes]]:
    import requests

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{url}/moto-api/", timeout=1)
            return url, proc
        except requests.RequestException:
            time.sleep(0.2)
    sys.exit("bench: the moto server did not start")


def raw_sqs(endpoint: str, stream: str, target: str, count: int) -> float:
    from pipelines.adapters.sqs import ensure_queues, sqs_client

    client = sqs_client(endpoint)
    url, _ = ensure_queues(client, QueueNames(stream, target))
    got, first = 0, time.perf_counter()
    while got < count:
        messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        for m in messages:
            json.loads(m["Body"])
        if messages:
            client.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        got += len(messages)
    return count / (time.perf_counter() - first)


def sqs_figures(count: int, stream: str, targets: list[str]) -> dict[str, float]:
    from pipelines.adapters import sqs_admin

    endpoint, proc = os.environ.get("BRIDGE_SQS_ENDPOINT"), None
    if not endpoint:
        endpoint, proc = moto_server()
    try:
        raw_target, core_target = targets
        started = time.perf_counter()
        sqs_admin.publish(order_messages(count, SEED), stream, [raw_target, core_target], endpoint=endpoint)
        publish_rate = 2 * count / (time.perf_counter() - started)
        raw = raw_sqs(endpoint, stream, raw_target, count)
        prepare_worker_target_sqs(stream, core_target, endpoint)
        window = core_window("sqs", stream, core_target, count, 10.0, {"endpoint": endpoint})
        core = window["received"] / (window["last"] - window["first"])
        sqs_admin.delete_stream(stream, targets, endpoint)
        return {"publish": publish_rate, "raw": raw, "core": core}
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)


def prepare_worker_target_sqs(stream: str, target: str, endpoint: str) -> None:
    from pipelines.adapters.outcome_store import prepare_outcomes
    from pipelines.adapters.sqs_admin import prepare

    prepare_outcomes(target)
    prepare(QueueNames(stream, target), endpoint)


# -- main ------------------------------------------------------------------------------------------------


def drop_schemas(targets: list[str]) -> None:
    from psycopg import sql

    with db.warehouse_connection(None) as conn:
        for target in targets:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(target)))
        conn.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--sqs-messages", type=int, default=500, help="0 skips SQS")
    parser.add_argument("--rounds", type=int, default=1, help="repeat raw / 1 process / 2 processes; medians")
    parser.add_argument("--child", nargs=2, metavar=("STREAM", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        stream, target = args.child
        print(json.dumps(core_window("rabbitmq", stream, target, None, 30.0)))
        return 0

    from pipelines.adapters import rabbitmq_admin

    db.ensure_warehouse_database()
    token = secrets.token_hex(3)
    stream = f"bench{token}"
    n = args.messages
    lanes = [
        (f"{stream}{name}{r}", f"bench_{token}_{name}_{r}")
        for r in range(args.rounds)
        for name in ("raw", "one", "two")
    ]
    targets = [t for _, t in lanes]
    sqs_targets = [f"bench_{token}_sqsraw", f"bench_{token}_sqscore"]
    figures: dict[str, list[float]] = {"publish": [], "raw": [], "one": [], "two": []}
    print(
        f"{n} messages of ~{statistics.mean(len(b) for b, _ in order_messages(1000, SEED)):.0f} bytes; "
        f"batch {BATCH}, prefetch {PREFETCH}",
        flush=True,
    )
    try:
        for r in range(args.rounds):
            # One stream (fanout exchange) per measurement: a queue bound to a shared one would get every copy.
            (raw_s, raw_t), (one_s, one_t), (two_s, two_t) = lanes[3 * r : 3 * r + 3]
            for stream_, target in lanes[3 * r : 3 * r + 3]:
                prepare_worker_target(resolve_worker_run("rabbitmq", target, stream_))
            figures["publish"].append(publish_rabbitmq(raw_s, raw_t, n))
            figures["raw"].append(raw_pika(raw_s, raw_t, n))
            print(f"  round {r + 1}: raw pika       {figures['raw'][-1]:9,.0f} msg/s", flush=True)
            publish_rabbitmq(one_s, one_t, n)
            window = core_window("rabbitmq", one_s, one_t, n, 10.0)
            figures["one"].append(window["received"] / (window["last"] - window["first"]))
            print(f"  round {r + 1}: core, 1 proc   {figures['one'][-1]:9,.0f} msg/s", flush=True)
            publish_rabbitmq(two_s, two_t, n)
            figures["two"].append(core_processes(two_s, two_t, n, 2))
            print(f"  round {r + 1}: core, 2 procs  {figures['two'][-1]:9,.0f} msg/s", flush=True)
        sqs = sqs_figures(args.sqs_messages, stream, sqs_targets) if args.sqs_messages else None
    finally:
        for stream_, target in lanes:
            rabbitmq_admin.delete_stream(stream_, [target])
        drop_schemas(targets + sqs_targets)
    raw, one, two = (statistics.median(figures[k]) for k in ("raw", "one", "two"))
    print()
    print(f"| consumer (RabbitMQ, {n:,} msgs) | msg/s | vs raw |")
    print("|---|---|---|")
    print(f"| raw pika: prefetch 1000, json.loads, multiple-ack/500 | {raw:,.0f} | 1.00x |")
    print(f"| core, 1 process (decode, rules, PostgreSQL write, ack) | {one:,.0f} | {one / raw:.2f}x |")
    print(f"| core, 2 processes, one queue | {two:,.0f} | {two / raw:.2f}x |")
    print(f"publish (persistent, no confirms): {statistics.median(figures['publish']):,.0f} msg/s")
    if sqs:
        where = "endpoint" if os.environ.get("BRIDGE_SQS_ENDPOINT") else "moto"
        print(
            f"SQS ({args.sqs_messages:,} msgs, {where}):"
            f" core {sqs['core']:,.0f} msg/s, raw receive/delete {sqs['raw']:,.0f} msg/s "
            f"({sqs['core'] / sqs['raw']:.2f}x), publish {sqs['publish']:,.0f} msg/s"
        )
    print(
        f"goal >= 0.5x in one process: {'met' if one / raw >= 0.5 else 'NOT met'}; "
        f"two processes {'faster' if two > one else 'not faster'} than one"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
