"""Amazon SQS through boto3: a target's queues, the consumer side of the core's ``Broker``, and publishing.

Endpoint from ``$BRIDGE_SQS_ENDPOINT``: moto's server on this machine, LocalStack in compose, unset for
real SQS (then boto3's usual region and credentials apply). With an endpoint set and no
``AWS_ACCESS_KEY_ID`` in the environment, dummy credentials are used: emulators accept anything, and
host credentials never leak into them. Region: ``$AWS_REGION``, ``$AWS_DEFAULT_REGION``, else us-east-1.

Queues per target: ``<stream>-<target>`` and ``<stream>-<target>-dlq`` (standard queues). SQS has no
exchange, so shadow-readiness is a tee in the publisher: every batch goes to every target's queue.

Consuming: ``receive_message`` (10 at a time) until the batch is full or the queue answers empty; the
attempt number is ``ApproximateReceiveCount``; ack is ``delete_message_batch``; a retry is
``change_message_visibility`` to the backoff (so the message stays in the queue, invisible, and its
receive count goes up); a dead letter is sent to the DLQ with attributes ``reason``, ``attempts``,
``source_queue``, ``message_id`` before the original is deleted. The queue's own redrive policy
(``maxReceiveCount`` 20) is only a safety net for a message that kills every worker touching it.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from pipelines.errors import BrokerUnavailableError
from pipelines.queues.consumer import LOG
from pipelines.queues.contracts import Delivery
from pipelines.queues.names import QueueNames

SQS_ENDPOINT_ENV = "BRIDGE_SQS_ENDPOINT"
REDRIVE_SAFETY_NET = 20
DEFAULT_VISIBILITY_TIMEOUT = 30
MAX_VISIBILITY_TIMEOUT = 43_200
_TRANSIENT_CODES = {
    "ThrottlingException",
    "RequestThrottled",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "RequestTimeout",
}
_MISSING_CODES = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


def sqs_endpoint(endpoint: str | None = None) -> str | None:
    return endpoint or os.environ.get(SQS_ENDPOINT_ENV) or None


def sqs_client(endpoint: str | None = None, max_attempts: int = 3) -> Any:
    """A boto3 SQS client for ``endpoint`` (default ``$BRIDGE_SQS_ENDPOINT``; none: real SQS); botocore
    retries a failed call up to ``max_attempts`` times in all before it raises."""
    endpoint = sqs_endpoint(endpoint)
    kwargs: dict[str, Any] = {
        "region_name": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        "config": Config(
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            max_pool_connections=16,
        ),
    }
    if endpoint:
        kwargs["endpoint_url"] = endpoint
        if not os.environ.get("AWS_ACCESS_KEY_ID"):
            kwargs.update(aws_access_key_id="test", aws_secret_access_key="test")
    return boto3.client("sqs", **kwargs)


@contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """Connection failures, throttling and 5xx become ``BrokerUnavailableError``; other errors pass."""
    try:
        yield
    except (BotoConnectionError, HTTPClientError) as exc:
        raise BrokerUnavailableError(f"sqs {what}: {exc}") from exc
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _TRANSIENT_CODES or status >= 500:
            raise BrokerUnavailableError(f"sqs {what}: {code or status}: {exc}") from exc
        raise


def _queue_url(client: Any, name: str, attributes: dict[str, str]) -> str:
    try:
        return str(client.get_queue_url(QueueName=name)["QueueUrl"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in _MISSING_CODES:
            raise
    return str(client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


def ensure_queues(
    client: Any, names: QueueNames, visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
) -> tuple[str, str]:
    """Create the target's DLQ and queue if missing; return their URLs (queue, dlq)."""
    dlq_url = _queue_url(client, names.dlq, {"MessageRetentionPeriod": "1209600"})
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    main_url = _queue_url(
        client,
        names.main,
        {
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(REDRIVE_SAFETY_NET)}
            ),
        },
    )
    return main_url, dlq_url


def text_attribute(value: object) -> dict[str, str]:
    return {"DataType": "String", "StringValue": str(value)}


class SQSBroker:
    """One target's SQS queue. ``Delivery.handle`` is the receipt handle."""

    name = "sqs"

    def __init__(
        self,
        names: QueueNames,
        endpoint: str | None = None,
        visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT,
        client_attempts: int = 3,
    ) -> None:
        self.names = names
        self.queue = names.main
        self.endpoint = sqs_endpoint(endpoint)
        self.visibility_timeout = visibility_timeout
        self.client_attempts = client_attempts
        self._client: Any = None
        self._url = self._dlq_url = ""
        self._retried: set[str] = set()

    def open(self) -> None:
        with translate_errors("connect"):
            client = sqs_client(self.endpoint, self.client_attempts)
            self._url, self._dlq_url = ensure_queues(client, self.names, self.visibility_timeout)
        self._client = client

    def close(self) -> None:
        self._client = None
        self._retried.clear()

    def _sqs(self) -> Any:
        if self._client is None:
            raise BrokerUnavailableError("sqs: not connected")
        return self._client

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        with translate_errors("receive"):
            response = self._sqs().receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=count,
                WaitTimeSeconds=wait,
                VisibilityTimeout=self.visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
                MessageAttributeNames=["All"],
            )
        return list(response.get("Messages", []))

    def fetch(self, max_count: int, first_wait: float, fill_wait: float) -> list[Delivery]:
        """Long-poll (whole seconds, at most 20) for the first messages, then short polls until the batch is
        full or a poll comes back empty. ``fill_wait`` is not needed: a short poll never waits."""
        wait = min(20, int(first_wait))
        out: list[Delivery] = []
        while len(out) < max_count:
            messages = self._receive(min(10, max_count - len(out)), wait)
            if not messages:
                if not out and wait == 0 and first_wait > 0:
                    time.sleep(min(first_wait, 0.25))  # a short poll answered at once: do not spin
                break
            out.extend(map(self._delivery, messages))
            wait = 0
        return out

    @staticmethod
    def _delivery(message: dict[str, Any]) -> Delivery:
        count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        message_id = message.get("MessageAttributes", {}).get("message_id", {}).get("StringValue")
        return Delivery(
            message["Body"].encode("utf-8"), message_id, count, count > 1, message["ReceiptHandle"]
        )

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        handles = [d.handle for d in deliveries if d.handle not in self._retried]
        self._retried.difference_update(d.handle for d in deliveries)
        for start in range(0, len(handles), 10):
            chunk = handles[start : start + 10]
            with translate_errors("delete"):
                response = self._sqs().delete_message_batch(
                    QueueUrl=self._url,
                    Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)],
                )
            for failed in response.get("Failed", []):  # e.g. the visibility timeout ran out: it comes back
                LOG.warning(
                    "sqs %s: delete failed (%s: %s); the message will be redelivered and deduplicated",
                    self.queue,
                    failed.get("Code"),
                    failed.get("Message"),
                )

    def retry(self, delivery: Delivery, delay: float, reason: str) -> None:
        seconds = min(MAX_VISIBILITY_TIMEOUT, max(0, math.ceil(delay)))
        with translate_errors("retry"):
            self._sqs().change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=delivery.handle, VisibilityTimeout=seconds
            )
        self._retried.add(delivery.handle)

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        attributes = {
            "reason": text_attribute(reason[:2000]),
            "source_queue": text_attribute(self.queue),
            "attempts": {"DataType": "Number", "StringValue": str(delivery.attempt)},
        }
        if delivery.message_id:
            attributes["message_id"] = text_attribute(delivery.message_id)
        with translate_errors("dead-letter"):
            self._sqs().send_message(
                QueueUrl=self._dlq_url,
                MessageBody=delivery.body.decode("utf-8", "replace"),
                MessageAttributes=attributes,
            )

    def pending(self) -> int:
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        with translate_errors("pending"):
            attributes = self._sqs().get_queue_attributes(QueueUrl=self._url, AttributeNames=names)[
                "Attributes"
            ]
        return sum(int(attributes.get(n, 0)) for n in names)
