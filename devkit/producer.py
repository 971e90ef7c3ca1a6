"""The producer: publish a deterministic stream of order events to RabbitMQ or SQS (``bridge seed queue``).

    python -m devkit.producer rabbitmq 1000 --seed 7 --target warehouse --target shadow_prefect

Every target named gets its own copy of every message (RabbitMQ: the targets' queues are declared and
bound to the stream's fanout exchange before the first publish; SQS: the publisher tees each batch to
every target's queue), so a shadow target never competes with the primary for messages.

Message ``i`` of seed ``s`` has id ``ord-<s>-<i:07d>`` and is always the same event. ``poison`` of the
``count`` messages are readable events no handler accepts (retried, then dead-lettered), ``malformed``
are not JSON (dead-lettered at once), spread evenly; ``duplicates`` re-sends the first messages again at
the end, under the same ids (the outcome must still be written once).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

from pipelines.common.targets import DEFAULT_TARGET
from pipelines.queues.events import encode_event, make_event, make_malformed, make_poison, message_id_for
from pipelines.queues.names import DEFAULT_STREAM, QueueNames


def special_indexes(count: int, poison: int, malformed: int, start: int = 0) -> tuple[set[int], set[int]]:
    """Where the poison and the malformed messages go: spread evenly, never the same index."""
    if poison < 0 or malformed < 0 or poison + malformed > count:
        raise ValueError(f"poison ({poison}) + malformed ({malformed}) must be between 0 and count ({count})")
    special = poison + malformed
    spots = {start + (j + 1) * count // (special + 1) for j in range(special)}
    free = (i for i in range(start, start + count) if i not in spots)
    while len(spots) < special:  # only if evenly spread positions collide
        spots.add(next(free))
    ordered = sorted(spots)
    return set(ordered[:poison]), set(ordered[poison:])


def order_messages(
    count: int, seed: int, *, start: int = 0, poison: int = 0, malformed: int = 0, duplicates: int = 0
) -> Iterator[tuple[bytes, str]]:
    """``(body, message_id)`` pairs, in index order, then the ``duplicates`` re-sends."""
    poisoned, broken = special_indexes(count, poison, malformed, start)

    def one(i: int) -> tuple[bytes, str]:
        if i in poisoned:
            return encode_event(make_poison(seed, i)), message_id_for(seed, i)
        if i in broken:
            return make_malformed(seed, i), message_id_for(seed, i)
        return encode_event(make_event(seed, i)), message_id_for(seed, i)

    for i in range(start, start + count):
        yield one(i)
    for i in range(start, start + min(duplicates, count)):
        yield one(i)


def publish_orders(
    broker: str,
    count: int,
    seed: int,
    *,
    targets: Sequence[str] = (DEFAULT_TARGET,),
    stream: str = DEFAULT_STREAM,
    start: int = 0,
    poison: int = 0,
    malformed: int = 0,
    duplicates: int = 0,
    url: str | None = None,
) -> dict[str, Any]:
    """Publish ``count`` order events (plus ``duplicates`` re-sends) to every target's queue of ``stream``.

    ``broker``: ``rabbitmq`` (``url``: AMQP URL, default ``$BRIDGE_RABBITMQ_URL``) or ``sqs`` (``url``:
    endpoint, default ``$BRIDGE_SQS_ENDPOINT``). Returns what was published, JSON-ready."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if duplicates < 0:
        raise ValueError(f"duplicates must be >= 0, got {duplicates}")
    names = [QueueNames(stream, t) for t in targets]  # validates before anything is sent
    messages = order_messages(
        count, seed, start=start, poison=poison, malformed=malformed, duplicates=duplicates
    )
    started = time.monotonic()
    if broker == "rabbitmq":
        from pipelines.adapters import rabbitmq_admin

        published = rabbitmq_admin.publish(messages, stream, list(targets), url=url)
    elif broker == "sqs":
        from pipelines.adapters import sqs_admin

        published = sqs_admin.publish(messages, stream, list(targets), endpoint=url)
    else:
        raise ValueError(f"unknown broker {broker!r}; expected rabbitmq or sqs")
    seconds = time.monotonic() - started
    return {
        "broker": broker,
        "stream": stream,
        "targets": list(targets),
        "queues": [n.main for n in names],
        "published": published,
        "messages": count,
        "poison": poison,
        "malformed": malformed,
        "duplicates": min(duplicates, count),
        "first_id": message_id_for(seed, start) if count else None,
        "last_id": message_id_for(seed, start + count - 1) if count else None,
        "seconds": round(seconds, 3),
        "msg_per_s": round(published / seconds, 1) if seconds > 0 else 0.0,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit.producer", description=__doc__.splitlines()[0])
    parser.add_argument("broker", choices=("rabbitmq", "sqs"))
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--target",
        action="append",
        dest="targets",
        metavar="TARGET",
        help=f"a target that gets a copy of every message; repeatable (default {DEFAULT_TARGET})",
    )
    parser.add_argument("--stream", default=DEFAULT_STREAM)
    parser.add_argument("--start", type=int, default=0, help="index of the first message")
    parser.add_argument("--poison", type=int, default=0)
    parser.add_argument("--malformed", type=int, default=0)
    parser.add_argument("--duplicates", type=int, default=0)
    parser.add_argument("--url", help="AMQP URL or SQS endpoint (default: from the environment)")
    args = parser.parse_args(argv)
    try:
        result = publish_orders(
            args.broker,
            args.count,
            args.seed,
            targets=args.targets or [DEFAULT_TARGET],
            stream=args.stream,
            start=args.start,
            poison=args.poison,
            malformed=args.malformed,
            duplicates=args.duplicates,
            url=args.url,
        )
    except Exception as exc:  # one line for a person, not a traceback
        print(f"devkit.producer: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
