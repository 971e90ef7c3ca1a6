"""A dispatcher run as both orchestrations call it: measure the queue, decide, name the consumer runs.

The rule is ``pipelines.queues.autoscale.plan``; this module reads its inputs from the broker (the ready
messages of ``<stream>-<target>``: RabbitMQ's passive-declare message count, SQS's
``ApproximateNumberOfMessages``) and turns the decision into the consumer runs' parameters. Counting the
consumer runs already there and starting new ones is the orchestrator's part (``flows/queue_dispatchers.py``,
``dags_legacy/queue_dispatchers.py``). Parameters: ``pipelines.queues.params.DISPATCH_PARAM_SPECS``.

The dispatchers are not catalogued workflows (not in ``bridge.toml``, not in the workflow registry): they
write no table and return no business result to compare, their schedule (every minute) is not a business
schedule, and what they start, the consumer runs of ``rabbitmq_worker`` / ``sqs_worker``, is catalogued and
shadowed as before. Each side's dispatcher is registered paused; turn on the one of the side that consumes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pipelines.common.targets import validate_target
from pipelines.jobs.queue_worker import BROKERS, broker_admin
from pipelines.queues.autoscale import Plan, plan, tightest_bound
from pipelines.queues.names import QueueNames
from pipelines.queues.params import DISPATCH_DEFAULTS

#: broker -> the dispatcher's name: the Airflow dag_id and the Prefect deployment (flow: dashed)
DISPATCHERS: dict[str, str] = {broker: f"{broker}_dispatcher" for broker in BROKERS}
#: seconds between two dispatches, on both sides
DISPATCH_INTERVAL_SECONDS = 60
#: ``<prefix><dag_id>``: the Airflow Variable with a dispatcher DAG's settings (``settings_variable``)
SETTINGS_VARIABLE_PREFIX = "bridge_dispatch__"
#: what the consumer runs get from the dispatcher's parameters
_CONSUMER_PARAMS = ("target", "stream", "batch_size", "idle_seconds", "max_seconds")


def consumer_workflow(broker: str) -> str:
    """The registry id of ``broker``'s consumer workflow (``rabbitmq_worker``, ``sqs_worker``)."""
    if broker not in BROKERS:
        raise ValueError(f"unknown broker {broker!r}; known: {', '.join(sorted(BROKERS))}")
    return BROKERS[broker].workflow


def queue_depth(broker: str, target: str, stream: str, url: str | None = None) -> int:
    """Ready messages in ``<stream>-<target>`` on ``broker`` (0 if the queue does not exist)."""
    names = QueueNames(stream, validate_target(target))
    return int(broker_admin(broker).ready_messages(names, url))


def settings_variable(dispatcher: str) -> str:
    """The Airflow Variable that holds a dispatcher DAG's settings for its scheduled runs (JSON object of
    its parameters: ``{"target": "...", "stream": "...", "max_consumers": 4}``); a DAG's param defaults
    cannot be changed over the REST API, a Variable can. On Prefect: the deployment's parameters."""
    return f"{SETTINGS_VARIABLE_PREFIX}{dispatcher}"


def parse_overrides(raw: str | None) -> dict[str, Any]:
    """The parameters a settings Variable sets (``{}`` for none); ``ValueError`` naming what is wrong."""
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"dispatcher settings must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"dispatcher settings must be a JSON object, got {type(value).__name__}")
    unknown = set(value) - set(DISPATCH_DEFAULTS)
    if unknown:
        known = ", ".join(sorted(DISPATCH_DEFAULTS))
        raise ValueError(f"unknown dispatcher setting(s) {', '.join(sorted(unknown))}; known: {known}")
    return value


def with_defaults(params: Mapping[str, Any]) -> dict[str, Any]:
    """The dispatcher's parameters, the missing ones from ``DISPATCH_DEFAULTS``."""
    return {name: params.get(name, default) for name, default in DISPATCH_DEFAULTS.items()}


def decide(params: Mapping[str, Any], depth: int, running: int, limits: tuple[int | None, ...] = ()) -> Plan:
    """The plan for ``depth`` ready messages with ``running`` consumer runs there, bounded by the
    ``max_consumers`` parameter and the orchestrator's ``limits`` (None: not limited)."""
    p = with_defaults(params)
    return plan(depth, running, p["per_consumer"], tightest_bound(p["max_consumers"], *limits))


def consumer_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of each consumer run the dispatcher starts (target, stream and how it drains)."""
    p = with_defaults(params)
    return {name: p[name] for name in _CONSUMER_PARAMS}


def dispatch_summary(
    broker: str, params: Mapping[str, Any], decided: Plan, started: list[str]
) -> dict[str, Any]:
    """What a dispatcher run returns on either side: the queue, the decision, and the runs it started."""
    p = with_defaults(params)
    names = QueueNames(p["stream"], p["target"])
    return {
        "broker": broker,
        "consumer": consumer_workflow(broker),
        "queue": names.main,
        "target": p["target"],
        **decided.as_dict(),
        "started": started,
    }
