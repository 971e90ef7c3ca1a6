"""The pipelines' one exception tree.

    PipelineError                    every error a pipeline raises on purpose
    ├── InvalidTargetError           a target that is not a schema name a pipeline may write into
    ├── InvalidQueueNameError        a stream or target that cannot name a queue on both brokers
    ├── DatabaseUrlError             a database URL that cannot be used (dialect, database name, kind)
    ├── MalformedMessageError        a message body that is not an order event at all
    ├── EventError                   a readable message whose event does not have the expected shape
    ├── BrokerUnavailableError       the broker connection failed; a reconnect may cure it
    ├── StoreUnavailableError        the outcome store failed; a retry may cure it
    ├── ExtractError                 the source could not be read to the end
    └── NotOwnedError                a destructive act on a database or schema the bridge did not create

Each class also derives from the builtin a caller would expect (``ValueError`` for bad input,
``ConnectionError`` for the two transient failures, ``RuntimeError`` for an interrupted read,
``PermissionError`` for a refusal), so code that catches those keeps working. Bad arguments to a function
(a negative count, an unknown option) stay plain ``ValueError``: they are programming errors, not
pipeline outcomes.
"""

from __future__ import annotations

__all__ = [
    "BrokerUnavailableError",
    "DatabaseUrlError",
    "EventError",
    "ExtractError",
    "InvalidQueueNameError",
    "InvalidTargetError",
    "MalformedMessageError",
    "NotOwnedError",
    "PipelineError",
    "StoreUnavailableError",
]


class PipelineError(Exception):
    """Root of every error the pipelines raise on purpose."""


class InvalidTargetError(PipelineError, ValueError):
    """The target is not a schema name a pipeline may write into."""


class InvalidQueueNameError(PipelineError, ValueError):
    """A stream or target that cannot name a queue on both brokers."""


class DatabaseUrlError(PipelineError, ValueError):
    """A database URL that cannot be used (unknown dialect, no database name, wrong kind)."""


class MalformedMessageError(PipelineError, ValueError):
    """The body cannot be read as an order event at all (it is not a JSON object with a message id)."""


class EventError(PipelineError, ValueError):
    """A readable message whose event does not have the expected shape."""


class BrokerUnavailableError(PipelineError, ConnectionError):
    """The broker connection failed in a way a reconnect may cure (dropped, refused, timed out)."""


class StoreUnavailableError(PipelineError, ConnectionError):
    """The outcome store failed in a way a retry may cure (connection lost, server restarting)."""


class ExtractError(PipelineError, RuntimeError):
    """The source could not be read to the end (SQL error, lost connection, killed client)."""


class NotOwnedError(PipelineError, PermissionError):
    """A seeder, reset or teardown would drop or rewrite a database or schema the bridge did not create
    (no ``bridge_owned`` marker): refused in one line naming it and the override (``--i-own-this-database``)."""
