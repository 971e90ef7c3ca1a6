"""The parameters of a queue-worker run, declared once for the DAGs and the flows. Light to import: a DAG
file reads this every few seconds.

``PARAM_SPECS`` is JSON Schema per parameter (what Airflow's ``Param`` takes); the Prefect flows use the
same names and ``DEFAULTS``. ``settings_from_params`` turns a run's values into ``ConsumerSettings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.common.targets import DEFAULT_TARGET, TARGET_PATTERN
from pipelines.queues.contracts import ConsumerSettings
from pipelines.queues.names import DEFAULT_STREAM, STREAM_PATTERN

DEFAULTS: dict[str, Any] = {
    "target": DEFAULT_TARGET,
    "stream": DEFAULT_STREAM,
    "batch_size": 500,
    "max_messages": None,
    "max_seconds": 300.0,
    "idle_seconds": 2.0,
    "wait_seconds": None,
    "max_attempts": 5,
    "retry_base_seconds": 1.0,
}

PARAM_SPECS: dict[str, dict[str, Any]] = {
    "target": {
        "type": "string",
        "pattern": TARGET_PATTERN,
        "description": "Schema of the outcome table; also selects the queue <stream>-<target>.",
    },
    "stream": {
        "type": "string",
        "pattern": STREAM_PATTERN,
        "description": "The message stream: RabbitMQ fanout exchange and queue-name prefix.",
    },
    "batch_size": {
        "type": "integer",
        "minimum": 1,
        "maximum": 10000,
        "description": "Messages per batch (one transaction, one ack).",
    },
    "max_messages": {
        "type": ["null", "integer"],
        "minimum": 1,
        "description": "Stop after this many deliveries; empty: until the queue is empty.",
    },
    "max_seconds": {
        "type": ["null", "number"],
        "exclusiveMinimum": 0,
        "description": "Time budget of the run.",
    },
    "idle_seconds": {
        "type": "number",
        "exclusiveMinimum": 0,
        "description": "Stop after this long with nothing received and nothing pending.",
    },
    "wait_seconds": {
        "type": ["null", "number"],
        "exclusiveMinimum": 0,
        "description": "How long to wait for the first message; empty: idle_seconds.",
    },
    "max_attempts": {
        "type": "integer",
        "minimum": 1,
        "maximum": 20,
        "description": "Attempts before a failing message goes to the dead-letter queue.",
    },
    "retry_base_seconds": {
        "type": "number",
        "minimum": 0,
        "description": "Backoff after the first failed attempt; doubles each time (cap 60 s).",
    },
}

SETTING_NAMES = (
    "batch_size",
    "max_messages",
    "max_seconds",
    "idle_seconds",
    "wait_seconds",
    "max_attempts",
    "retry_base_seconds",
)


def settings_from_params(params: Mapping[str, Any]) -> ConsumerSettings:
    """``ConsumerSettings`` from a run's parameters (missing ones take ``DEFAULTS``); ``ValueError`` if bad."""
    values = {name: params.get(name, DEFAULTS[name]) for name in SETTING_NAMES}
    for name in ("max_seconds", "idle_seconds", "wait_seconds", "retry_base_seconds"):
        if isinstance(values[name], int) and not isinstance(values[name], bool):
            values[name] = float(values[name])
    return ConsumerSettings(**values)


# -- the dispatchers (``pipelines.jobs.dispatch``): how they size the consumers, and what they pass them --

DISPATCH_DEFAULTS: dict[str, Any] = {
    "target": DEFAULT_TARGET,
    "stream": DEFAULT_STREAM,
    "per_consumer": 20_000,
    "max_consumers": 4,
    "batch_size": 500,
    "idle_seconds": 2.0,
    "max_seconds": 300.0,
}

DISPATCH_PARAM_SPECS: dict[str, dict[str, Any]] = {
    "target": PARAM_SPECS["target"],
    "stream": PARAM_SPECS["stream"],
    "per_consumer": {
        "type": "integer",
        "minimum": 1,
        "description": "Ready messages one consumer run is started for (desired = ceil(depth / this)).",
    },
    "max_consumers": {
        "type": "integer",
        "minimum": 0,
        "maximum": 64,
        "description": "Most consumer runs at once (the orchestrator's own limits may be tighter).",
    },
    "batch_size": PARAM_SPECS["batch_size"],
    "idle_seconds": PARAM_SPECS["idle_seconds"],
    "max_seconds": PARAM_SPECS["max_seconds"],
}
