"""RabbitMQ publisher and admin tools: publish a stream's messages, prepare (declare) a target's queues,
read queue depths and dead letters, delete a stream. The consumer side is ``pipelines.adapters.rabbitmq``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pika
import pika.exceptions as pe

from pipelines.adapters.rabbitmq import (
    ATTEMPTS_HEADER,
    CONTENT_TYPE,
    PERSISTENT,
    REASON_HEADER,
    SOURCE_HEADER,
    close_quietly,
    connect,
    declare_topology,
    translate_errors,
)
from pipelines.queues.names import QueueNames


def publish(
    messages: Iterable[tuple[bytes, str | None]], stream: str, targets: Sequence[str], url: str | None = None
) -> int:
    """Publish ``(body, message_id)`` pairs to the stream's fanout exchange, persistent, after declaring
    every target's queues (so each target, primary and shadow, gets its copy). Returns the count.

    No publisher confirms per message (they would cap this at a few hundred per second); instead a
    synchronous call on the same channel at the end proves the broker has routed everything before."""
    if not targets:
        raise ValueError("publish needs at least one target: a fanout with no queue bound drops everything")
    names = [QueueNames(stream, t) for t in targets]
    conn = connect(url)
    try:
        with translate_errors("publish"):
            channel = conn.channel()
            for n in names:
                declare_topology(channel, n)
            count = 0
            for body, message_id in messages:
                channel.basic_publish(
                    stream,
                    "",
                    body,
                    pika.BasicProperties(
                        content_type=CONTENT_TYPE, delivery_mode=PERSISTENT, message_id=message_id
                    ),
                )
                count += 1
            for n in names:
                channel.queue_declare(n.main, passive=True)
        return count
    finally:
        close_quietly(conn)


def queue_depths(names: QueueNames, url: str | None = None) -> dict[str, int]:
    """Ready messages in the target's queue, retry queue and DLQ (0 for a queue that does not exist)."""
    conn = connect(url)
    try:
        depths = {}
        for queue in (names.main, names.retry, names.dlq):
            channel = conn.channel()
            try:
                depths[queue] = int(channel.queue_declare(queue, passive=True).method.message_count)
                channel.close()
            except pe.ChannelClosedByBroker:
                depths[queue] = 0
        return depths
    finally:
        close_quietly(conn)


def ready_messages(names: QueueNames, url: str | None = None) -> int:
    """Messages ready in the target's queue (a passive declare's message count; 0 if it does not exist):
    what a dispatcher sizes its consumers by. Unacked ones are in a running consumer's hands already."""
    with translate_errors("queue depth"):
        conn = connect(url)
        try:
            return int(conn.channel().queue_declare(names.main, passive=True).method.message_count)
        except pe.ChannelClosedByBroker:
            return 0
        finally:
            close_quietly(conn)


def read_dead_letters(names: QueueNames, url: str | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
    """The DLQ's messages with their reasons, left in place: ``message_id``, ``reason``, ``attempts``,
    ``source_queue``, ``body``."""
    conn = connect(url)
    try:
        channel = conn.channel()
        out: list[dict[str, Any]] = []
        while len(out) < limit:
            method, props, body = channel.basic_get(names.dlq, auto_ack=False)
            if method is None:
                break
            headers = props.headers or {}
            out.append(
                {
                    "message_id": props.message_id,
                    "reason": _text(headers.get(REASON_HEADER)),
                    "attempts": headers.get(ATTEMPTS_HEADER),
                    "source_queue": _text(headers.get(SOURCE_HEADER)),
                    "body": body,
                }
            )
        return out  # closing the connection returns them all to the queue
    finally:
        close_quietly(conn)


def _text(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def delete_stream(stream: str, targets: Sequence[str], url: str | None = None) -> None:
    """Delete the targets' queues and the stream's exchange (test and benchmark cleanup)."""
    conn = connect(url)
    try:
        channel = conn.channel()
        for target in targets:
            n = QueueNames(stream, target)
            for queue in (n.main, n.retry, n.dlq):
                channel.queue_delete(queue)
        channel.exchange_delete(stream)
    finally:
        close_quietly(conn)


def prepare(names: QueueNames, url: str | None = None) -> list[str]:
    """Declare the target's topology (idempotent); return its queue names."""
    conn = connect(url)
    try:
        with translate_errors("declare"):
            declare_topology(conn.channel(), names)
    finally:
        close_quietly(conn)
    return [names.main, names.retry, names.dlq]
