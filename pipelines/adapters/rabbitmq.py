"""RabbitMQ through pika: a stream's topology, the consumer side of the core's ``Broker``, and publishing.

Topology of a stream and its targets (see ``pipelines.queues.names``), all durable::

    exchange <stream> (fanout) --> <stream>-<target>        one queue per target: each gets every message
    <stream>-<target>-retry    x-dead-letter-exchange "" -> <stream>-<target>: a retried message waits here
                               for its per-message expiration (the backoff), then goes back to the queue
    <stream>-<target>-dlq      dead letters, with headers x-bridge-reason / -attempts / -source-queue

Consuming: manual ack, ``basic_qos(prefetch)``, and one multiple-ack per batch once its outcomes are
committed. The attempt number travels in the ``x-bridge-attempt`` header (1 when absent); retries and dead
letters are published on a second channel in confirm mode, so they are in the broker before the original
is acked. A redelivery after a crash keeps its attempt number (the crash was not the message's fault).
Retries share one queue, so a short backoff may wait behind a longer one (expiry happens at the head).

Connection from ``$BRIDGE_RABBITMQ_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/%2F``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pika
import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from pipelines.errors import BrokerUnavailableError
from pipelines.queues.contracts import Delivery
from pipelines.queues.names import QueueNames

RABBITMQ_URL_ENV = "BRIDGE_RABBITMQ_URL"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
ATTEMPT_HEADER = "x-bridge-attempt"
LAST_ERROR_HEADER = "x-bridge-last-error"
REASON_HEADER = "x-bridge-reason"
ATTEMPTS_HEADER = "x-bridge-attempts"
SOURCE_HEADER = "x-bridge-source-queue"
CONTENT_TYPE = "application/json"
PERSISTENT = 2

_PERMANENT = (
    pe.ProbableAuthenticationError,
    pe.ProbableAccessDeniedError,
    pe.AuthenticationError,
    pe.IncompatibleProtocolError,
)
_TRANSIENT = (pe.AMQPConnectionError, pe.ChannelWrongStateError, pe.ConsumerCancelled, pe.NackError, OSError)
_REFUSED = (403, 530)  # access refused, not allowed (vhost): configuration, not weather


def rabbitmq_url(url: str | None = None) -> str:
    """``url``, else ``$BRIDGE_RABBITMQ_URL``, else the local default."""
    return url or os.environ.get(RABBITMQ_URL_ENV) or DEFAULT_RABBITMQ_URL


@contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """pika's transient errors become ``BrokerUnavailableError``; authentication and protocol errors pass."""
    try:
        yield
    except _PERMANENT:
        raise
    except pe.ConnectionClosedByBroker as exc:
        if exc.reply_code in _REFUSED:
            raise
        raise BrokerUnavailableError(f"rabbitmq {what}: connection closed by the broker: {exc}") from exc
    except pe.ChannelClosedByBroker as exc:
        if exc.reply_code != 320:  # 320 connection-forced; others (404, 406) are our mistakes
            raise
        raise BrokerUnavailableError(f"rabbitmq {what}: channel closed by the broker: {exc}") from exc
    except _TRANSIENT as exc:
        raise BrokerUnavailableError(f"rabbitmq {what}: {type(exc).__name__}: {exc}") from exc


def connect(url: str | None = None) -> BlockingConnection:
    with translate_errors("connect"):
        return pika.BlockingConnection(pika.URLParameters(rabbitmq_url(url)))


def declare_topology(channel: BlockingChannel, names: QueueNames) -> None:
    """Declare the exchange, the target's queue (bound), its retry queue and its DLQ. Idempotent."""
    channel.exchange_declare(names.exchange, exchange_type="fanout", durable=True)
    channel.queue_declare(names.dlq, durable=True)
    channel.queue_declare(
        names.retry,
        durable=True,
        arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": names.main},
    )
    channel.queue_declare(names.main, durable=True)
    channel.queue_bind(names.main, names.exchange)


def _own_headers(props: Any) -> dict[str, Any]:
    """The message's headers without the broker's bookkeeping (x-death and friends)."""
    headers = props.headers or {}
    return {
        k: v for k, v in headers.items() if not k.startswith(("x-death", "x-first-death", "x-last-death"))
    }


class RabbitMQBroker:
    """One target's queue, consumed with manual acks. ``Delivery.handle`` is (connection generation,
    delivery tag, properties): tags of a closed connection are never acked."""

    name = "rabbitmq"

    def __init__(self, names: QueueNames, url: str | None = None, prefetch: int = 1000) -> None:
        self.names = names
        self.queue = names.main
        self.url = rabbitmq_url(url)
        self.prefetch = prefetch
        self._conn: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._side: BlockingChannel | None = None
        self._buffer: list[Delivery] = []
        self._generation = 0

    def open(self) -> None:
        self._generation += 1
        self._buffer = []
        conn = connect(self.url)
        try:
            with translate_errors("open"):
                channel = conn.channel()
                declare_topology(channel, self.names)
                channel.basic_qos(prefetch_count=self.prefetch)
                side = conn.channel()
                side.confirm_delivery()
                channel.basic_consume(self.names.main, self._on_message)
        except BaseException:
            close_quietly(conn)
            raise
        self._conn, self._channel, self._side = conn, channel, side

    def close(self) -> None:
        conn, self._conn, self._channel, self._side = self._conn, None, None, None
        self._buffer = []
        if conn is not None:
            close_quietly(conn)

    def _on_message(self, _ch: Any, method: Any, props: Any, body: bytes) -> None:
        headers = props.headers
        attempt = headers.get(ATTEMPT_HEADER, 1) if headers else 1
        self._buffer.append(
            Delivery(
                body,
                props.message_id,
                attempt,
                method.redelivered,
                (self._generation, method.delivery_tag, props),
            )
        )

    def _connection(self) -> BlockingConnection:
        if self._conn is None or not self._conn.is_open:
            raise BrokerUnavailableError("rabbitmq: not connected")
        return self._conn

    def fetch(self, max_count: int, first_wait: float, fill_wait: float) -> list[Delivery]:
        conn = self._connection()
        with translate_errors("receive"):
            deadline = time.monotonic() + (fill_wait if self._buffer else first_wait)
            filling = bool(self._buffer)
            while True:
                conn.process_data_events(time_limit=max(0.0, deadline - time.monotonic()))
                if len(self._buffer) >= max_count:
                    break
                now = time.monotonic()
                if self._buffer and not filling:
                    filling, deadline = True, min(deadline, now + fill_wait)
                if now >= deadline:
                    break
        out, self._buffer = self._buffer[:max_count], self._buffer[max_count:]
        return out

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        tags = [d.handle[1] for d in deliveries if d.handle[0] == self._generation]
        if not tags:
            return
        self._connection()
        assert self._channel is not None
        with translate_errors("ack"):
            self._channel.basic_ack(max(tags), multiple=True)

    def _publish_side(
        self, routing_key: str, delivery: Delivery, headers: dict[str, Any], expiration: str | None = None
    ) -> None:
        self._connection()
        assert self._side is not None
        props = delivery.handle[2] if delivery.handle else None
        properties = pika.BasicProperties(
            content_type=getattr(props, "content_type", None) or CONTENT_TYPE,
            delivery_mode=PERSISTENT,
            message_id=delivery.message_id,
            headers=headers,
            expiration=expiration,
        )
        with translate_errors("publish"):
            self._side.basic_publish("", routing_key, delivery.body, properties, mandatory=True)

    def retry(self, delivery: Delivery, delay: float, reason: str) -> None:
        props = delivery.handle[2] if delivery.handle else None
        headers = {
            **(_own_headers(props) if props else {}),
            ATTEMPT_HEADER: delivery.attempt + 1,
            LAST_ERROR_HEADER: reason[:1000],
        }
        self._publish_side(self.names.retry, delivery, headers, expiration=str(max(0, int(delay * 1000))))

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        props = delivery.handle[2] if delivery.handle else None
        headers = {
            **(_own_headers(props) if props else {}),
            REASON_HEADER: reason[:2000],
            ATTEMPTS_HEADER: delivery.attempt,
            SOURCE_HEADER: self.names.main,
        }
        self._publish_side(self.names.dlq, delivery, headers)

    def pending(self) -> int:
        self._connection()
        assert self._side is not None
        with translate_errors("pending"):
            ready = self._side.queue_declare(self.names.main, passive=True).method.message_count
            waiting = self._side.queue_declare(self.names.retry, passive=True).method.message_count
        return int(ready) + int(waiting) + len(self._buffer)


def close_quietly(conn: BlockingConnection) -> None:
    try:
        if conn.is_open:
            conn.close()
    except Exception:
        pass
