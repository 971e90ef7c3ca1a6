"""A queue worker in a process of its own, for the SIGKILL test.

    python -m tests.integration.queue_worker_child BROKER STREAM TARGET MARKER [--after-batches N] ...

Prepares and consumes exactly as the DAG's tasks do (``pipelines.jobs.queue_worker``), except that
once batch N is committed, before it is acked, it writes ``{"batch", "committed"}`` to MARKER and sleeps:
the test kills it there, in the worst place. Warehouse and SQS endpoint come from the environment.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pipelines.jobs.queue_worker import open_consumer, prepare_worker_target, resolve_worker_run
from pipelines.queues.contracts import Batch, ConsumerSettings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("broker")
    parser.add_argument("stream")
    parser.add_argument("target")
    parser.add_argument("marker")
    parser.add_argument("--after-batches", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=25)
    parser.add_argument("--visibility", type=int, default=3)
    args = parser.parse_args()
    committed = 0

    def stall(batch: Batch) -> None:
        nonlocal committed
        committed += len(batch)
        if batch.number >= args.after_batches:
            Path(args.marker).write_text(json.dumps({"batch": batch.number, "committed": committed}))
            time.sleep(3600)

    run = resolve_worker_run(args.broker, args.target, args.stream)
    prepare_worker_target(run)
    options = {"visibility_timeout": args.visibility} if args.broker == "sqs" else {}
    settings = ConsumerSettings(batch_size=args.batch_size, idle_seconds=5.0, max_seconds=120.0)
    with open_consumer(run, settings, on_commit=stall, broker_options=options) as consumer:
        consumer.run()


if __name__ == "__main__":
    main()
