"""SQS publisher and admin tools: publish a stream's messages, prepare (declare) a target's queues,
read queue depths and dead letters, delete a stream. The consumer side is ``pipelines.adapters.sqs``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from botocore.exceptions import ClientError

from pipelines.adapters.sqs import ensure_queues, sqs_client, text_attribute, translate_errors
from pipelines.queues.names import QueueNames


def publish(
    messages: Iterable[tuple[bytes, str | None]],
    stream: str,
    targets: Sequence[str],
    endpoint: str | None = None,
    concurrency: int = 8,
) -> int:
    """Send ``(body, message_id)`` pairs to every target's queue (the tee), 10 per request, ``concurrency``
    requests in flight. Returns the number of messages (not of copies). Raises if SQS refuses any."""
    if not targets:
        raise ValueError("publish needs at least one target")
    client = sqs_client(endpoint)
    urls = [ensure_queues(client, QueueNames(stream, t))[0] for t in targets]

    def send(job: tuple[str, list[dict[str, Any]]]) -> None:
        url, entries = job
        response = client.send_message_batch(QueueUrl=url, Entries=entries)
        if response.get("Failed"):
            raise RuntimeError(f"sqs refused {len(response['Failed'])} message(s): {response['Failed'][0]}")

    count = 0

    def jobs() -> Iterator[tuple[str, list[dict[str, Any]]]]:
        nonlocal count
        entries: list[dict[str, Any]] = []
        for body, message_id in messages:
            entry: dict[str, Any] = {"Id": str(len(entries)), "MessageBody": body.decode("utf-8", "replace")}
            if message_id:
                entry["MessageAttributes"] = {"message_id": text_attribute(message_id)}
            entries.append(entry)
            count += 1
            if len(entries) == 10:
                yield from ((url, entries) for url in urls)
                entries = []
        if entries:
            yield from ((url, entries) for url in urls)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        in_flight: deque[Future[None]] = deque()
        for job in jobs():
            in_flight.append(pool.submit(send, job))
            if len(in_flight) >= 4 * concurrency:
                in_flight.popleft().result()
        for future in in_flight:
            future.result()
    return count


def queue_depths(names: QueueNames, endpoint: str | None = None) -> dict[str, int]:
    """Messages (visible + in flight) in the target's queue and DLQ; 0 for one that does not exist."""
    client = sqs_client(endpoint)
    depths = {}
    for queue in (names.main, names.dlq):
        try:
            url = client.get_queue_url(QueueName=queue)["QueueUrl"]
        except ClientError:
            depths[queue] = 0
            continue
        attrs = client.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths[queue] = sum(int(v) for v in attrs.values())
    return depths


def ready_messages(names: QueueNames, endpoint: str | None = None) -> int:
    """``ApproximateNumberOfMessages`` of the target's queue (visible ones; 0 if it does not exist): what a
    dispatcher sizes its consumers by. In-flight ones are in a running consumer's hands already."""
    client = sqs_client(endpoint)
    with translate_errors("queue depth"):
        try:
            url = client.get_queue_url(QueueName=names.main)["QueueUrl"]
        except ClientError:
            return 0
        attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def read_dead_letters(
    names: QueueNames, endpoint: str | None = None, limit: int = 10_000
) -> list[dict[str, Any]]:
    """The DLQ's messages with their reasons (``message_id``, ``reason``, ``attempts``, ``source_queue``,
    ``body``), made visible again afterwards."""
    client = sqs_client(endpoint)
    url = client.get_queue_url(QueueName=names.dlq)["QueueUrl"]
    out: list[dict[str, Any]] = []
    handles: list[dict[str, str]] = []
    while len(out) < limit:
        messages = client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            break
        for m in messages:
            attrs = {k: v.get("StringValue") for k, v in m.get("MessageAttributes", {}).items()}
            out.append(
                {
                    "message_id": attrs.get("message_id"),
                    "reason": attrs.get("reason"),
                    "attempts": int(attrs["attempts"]) if attrs.get("attempts") else None,
                    "source_queue": attrs.get("source_queue"),
                    "body": m["Body"].encode("utf-8"),
                }
            )
            handles.append(m["ReceiptHandle"])
    for start in range(0, len(handles), 10):
        chunk = handles[start : start + 10]
        client.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0} for i, h in enumerate(chunk)],
        )
    return out


def delete_stream(stream: str, targets: Sequence[str], endpoint: str | None = None) -> None:
    """Delete the targets' queues and DLQs (test and benchmark cleanup)."""
    client = sqs_client(endpoint)
    for target in targets:
        n = QueueNames(stream, target)
        for queue in (n.main, n.dlq):
            with suppress(ClientError):
                client.delete_queue(QueueUrl=client.get_queue_url(QueueName=queue)["QueueUrl"])


def prepare(names: QueueNames, endpoint: str | None = None) -> list[str]:
    """Create the target's queue and DLQ if missing; return their names."""
    with translate_errors("create queues"):
        ensure_queues(sqs_client(endpoint), names)
    return [names.main, names.dlq]
