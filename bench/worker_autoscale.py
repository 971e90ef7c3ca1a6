"""How long 200k queued messages take to drain with one consumer run, and with the dispatcher.

    .venv/bin/python bench/worker_autoscale.py [--messages 200000] [--per-consumer 50000] [--max-consumers 4]

Starts a private stack (``bench/private_stack.py``: real Prefect 3 and Airflow 3 on free ports, databases
of its own), then on the shared RabbitMQ ($BRIDGE_RABBITMQ_URL, default 127.0.0.1:5672), twice, with a
fresh queue of ``--messages`` order events each time:

- one consumer: one run of the ``rabbitmq-worker/rabbitmq_worker`` deployment, timed from its trigger to
  its end (the baseline: what a single triggered worker does today);
- dispatcher: one run of ``rabbitmq-dispatcher/rabbitmq_dispatcher`` (per_consumer, max_consumers), timed
  from its trigger to the end of the last consumer run it started.

Both go through the real Prefect worker, so both pay the same start-up cost per run. Every outcome is checked
written exactly once. The gain is bounded by the machine's cores: each consumer is one Python process
(decode, rules, COPY into PostgreSQL), and PostgreSQL and RabbitMQ share the same cores; on 2 cores, more
than 2 consumers cannot go faster than 2. Queues and stack are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from private_stack import private_stack  # noqa: E402

SEED = 31
TIMEOUT = 1800.0


def publish(stream: str, targets: list[str], count: int) -> None:
    """``count`` events to the stream's fanout exchange: every target's queue gets a copy."""
    from devkit.producer import publish_orders

    publish_orders("rabbitmq", count, SEED, targets=targets, stream=stream)


def consumer_conf(target: str, stream: str) -> dict[str, Any]:
    return {"target": target, "stream": stream, "batch_size": 500, "idle_seconds": 3, "max_seconds": 1200}


def outcomes(target: str, warehouse: str) -> int:
    from pipelines.adapters.outcome_store import read_outcomes

    return len({row[0] for row in read_outcomes(target, warehouse)})


def one_consumer(prefect: Any, stream: str, target: str, token: str) -> tuple[float, list[int]]:
    started = time.perf_counter()
    ref = prefect.trigger("rabbitmq-worker/rabbitmq_worker", consumer_conf(target, stream), f"{token}-one")
    prefect.wait(ref, TIMEOUT)
    wall = time.perf_counter() - started
    obs = prefect.observe(ref)
    if obs.state != "success":
        raise RuntimeError(f"the consumer run failed: {obs.error}")
    return wall, [int(obs.result["processed"])]


def dispatched(
    prefect: Any, stream: str, target: str, token: str, per_consumer: int, max_consumers: int
) -> tuple[float, list[int], dict[str, Any]]:
    params = {**consumer_conf(target, stream), "per_consumer": per_consumer, "max_consumers": max_consumers}
    params.pop("max_seconds")
    started = time.perf_counter()
    ref = prefect.trigger("rabbitmq-dispatcher/rabbitmq_dispatcher", params, f"{token}-disp")
    prefect.wait(ref, TIMEOUT)
    obs = prefect.observe(ref)
    if obs.state != "success":
        raise RuntimeError(f"the dispatcher run failed: {obs.error}")
    processed = []
    for run_id in obs.result["started"]:
        run = prefect.find_run(run_id)
        prefect.wait(run, TIMEOUT)
        done = prefect.observe(run)
        if done.state != "success":
            raise RuntimeError(f"a dispatched consumer run failed: {done.error}")
        processed.append(int(done.result["processed"]))
    return time.perf_counter() - started, processed, obs.result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--per-consumer", type=int, default=50_000)
    parser.add_argument("--max-consumers", type=int, default=4)
    args = parser.parse_args()

    from bridge.backends.prefect import PrefectBackend
    from pipelines.adapters.rabbitmq_admin import delete_stream

    token = secrets.token_hex(3)
    stream = f"wa{token}"
    targets = [f"wa{token}_one", f"wa{token}_disp"]
    n = args.messages
    try:
        with private_stack() as stack:
            prefect = PrefectBackend(stack.settings.prefect_url)
            t0 = time.perf_counter()
            publish(stream, targets, n)
            print(f"published {n} messages to 2 queues in {time.perf_counter() - t0:.1f} s", flush=True)
            one_wall, one_n = one_consumer(prefect, stream, targets[0], token)
            disp_wall, disp_n, plan = dispatched(
                prefect, stream, targets[1], token, args.per_consumer, args.max_consumers
            )
            counts = [outcomes(t, stack.warehouse_url) for t in targets]
    finally:
        delete_stream(stream, targets)
    ok = sum(one_n) == sum(disp_n) == n and counts == [n, n]
    cores = os.cpu_count()
    print(f"\nworker autoscale: {n} messages on RabbitMQ, through Prefect ({cores} cores on this machine)")
    print(f"{'':<28}{'consumers':>10}{'wall s':>10}{'msg/s':>10}  processed per run")
    print(f"{'one consumer run':<28}{1:>10}{one_wall:>10.1f}{n / one_wall:>10.0f}  {one_n}")
    started = len(plan["started"])
    print(f"{'dispatcher':<28}{started:>10}{disp_wall:>10.1f}{n / disp_wall:>10.0f}  {disp_n}")
    print(
        f"speed-up {one_wall / disp_wall:.2f}x with {started} consumers "
        f"(dispatcher: depth {plan['depth']}, desired {plan['desired']}, bound {plan['bound']}); "
        f"every outcome once: {'yes' if ok else 'NO'} ({counts})"
    )
    print(
        f"note: bounded by the {cores} cores, which the consumers share with PostgreSQL, RabbitMQ and the "
        "orchestrator: more consumers than cores cannot drain faster"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
