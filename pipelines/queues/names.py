"""Which queues a run reads and writes: derived from the stream and the target, valid on both brokers.

A **stream** is one flow of messages (``orders``): the RabbitMQ fanout exchange producers publish to, and
the prefix of every queue that receives a copy. Each **target** gets queues of its own::

    <stream>-<target>          the queue the target's runs consume (bound to the exchange)
    <stream>-<target>-retry    RabbitMQ only: failed messages wait here for their backoff, then return
    <stream>-<target>-dlq      dead letters, each with its reason

So ``target`` selects both the queue and the outcome table (``<target>.order_outcomes``), and a shadow
target (``shadow_prefect``) gets its own copy of every message instead of stealing the primary's.
Names use only ``[a-z0-9_-]`` and stay within SQS's 80 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.common.targets import validate_target
from pipelines.errors import InvalidQueueNameError

DEFAULT_STREAM = "orders"
STREAM_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
_STREAM_RE = re.compile(STREAM_PATTERN)
SQS_NAME_LIMIT = 80
_LONGEST_SUFFIX = "-retry"


def validate_stream(stream: object) -> str:
    if not isinstance(stream, str) or not _STREAM_RE.fullmatch(stream):
        raise InvalidQueueNameError(
            f"invalid stream {stream!r}: expected a lower-case name matching {STREAM_PATTERN}"
        )
    return stream


@dataclass(frozen=True)
class QueueNames:
    """The queue names of one (stream, target) pair; validated when built."""

    stream: str
    target: str

    def __post_init__(self) -> None:
        validate_stream(self.stream)
        validate_target(self.target)
        if len(self.main + _LONGEST_SUFFIX) > SQS_NAME_LIMIT:
            raise InvalidQueueNameError(
                f"queue name {self.main!r} is too long: stream and target together "
                f"must stay under {SQS_NAME_LIMIT - len(_LONGEST_SUFFIX)} characters"
            )

    @property
    def exchange(self) -> str:
        return self.stream

    @property
    def main(self) -> str:
        return f"{self.stream}-{self.target}"

    @property
    def retry(self) -> str:
        return f"{self.main}-retry"

    @property
    def dlq(self) -> str:
        return f"{self.main}-dlq"
