"""How many competing consumer runs a queue needs: the rule both dispatchers apply (the Prefect flow
``flows/queue_dispatcher.py`` and its Airflow twin ``dags_legacy/queue_dispatcher.py``). Pure: no broker,
no orchestrator.

A consumer run drains about ``per_consumer`` messages before the next dispatch looks again, so a queue of
``depth`` ready messages wants ``ceil(depth / per_consumer)`` consumers, never more than ``bound``: the
smallest of the dispatcher's own ``max_consumers`` and what the orchestrator lets run at once (Prefect: the
work pool's and the consumer deployment's concurrency limits; Airflow: the consumer DAG's
``max_active_runs``). The runs already running or waiting to start count against both, so the dispatcher
starts the difference, and nothing for an empty queue.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Plan", "consumers_to_start", "plan", "tightest_bound"]


@dataclass(frozen=True)
class Plan:
    """One dispatch decision: what was seen, what the rule wants, and how many runs to start now."""

    depth: int
    running: int
    desired: int
    bound: int
    start: int

    def as_dict(self) -> dict[str, int]:
        return {
            "depth": self.depth,
            "running": self.running,
            "desired": self.desired,
            "bound": self.bound,
            "start": self.start,
        }


def _count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def tightest_bound(*limits: int | None) -> int:
    """The smallest of the limits that are set (None: no limit); ``ValueError`` if none is."""
    known = [_count("a concurrency limit", limit, 0) for limit in limits if limit is not None]
    if not known:
        raise ValueError("no bound: give max_consumers")
    return min(known)


def plan(depth: int, running: int, per_consumer: int, bound: int) -> Plan:
    """The dispatch decision for a queue of ``depth`` ready messages with ``running`` consumer runs already
    running or queued: desired = ceil(depth / per_consumer) capped at ``bound``; start = desired - running,
    never below 0, so ``running + start <= bound`` always holds when anything is started."""
    depth = _count("depth", depth, 0)
    running = _count("running", running, 0)
    per_consumer = _count("per_consumer", per_consumer, 1)
    bound = _count("bound", bound, 0)
    desired = min(bound, -(-depth // per_consumer))
    return Plan(depth, running, desired, bound, max(0, desired - running))


def consumers_to_start(depth: int, running: int, per_consumer: int, bound: int) -> int:
    """How many consumer runs to start now (``plan(...).start``)."""
    return plan(depth, running, per_consumer, bound).start
