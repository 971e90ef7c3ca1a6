"""What the gates are evaluated over, gathered from the history store and the live servers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bridge.backends.base import parse_time
from bridge.config import WorkflowEntry
from bridge.cutover.gates import Evidence, Gate, LiveFacts, evaluate
from bridge.errors import BridgeError
from bridge.operations import Backends
from bridge.store import Store


def recorded(store: Store, workflow: str, limit: int) -> list[Evidence]:
    """The newest ``limit`` comparisons of ``workflow``, newest first."""
    return [_evidence(row) for row in store.history(workflow, limit=limit)]


def _evidence(row: Mapping[str, Any]) -> Evidence:
    at = row.get("at") or row.get("created_at") or datetime.now(UTC)
    return Evidence(
        id=int(row["id"]),
        verdict=str(row["verdict"]),
        origin=str(row.get("origin") or "manual"),
        at=at if isinstance(at, datetime) else datetime.now(UTC),
        business_date=business_date(row),
    )


def business_date(row: Mapping[str, Any]) -> str | None:
    """The date the primary run processed: its result's ``business_date``, else the day of the schedule
    instant the comparison was made for (a replay, a scheduled run), else None."""
    for side in ("airflow", "prefect"):
        doc = (row.get("sides", {}).get(side) or {}).get("document") or {}
        result = doc.get("result") if isinstance(doc, Mapping) else None
        if isinstance(result, Mapping) and result.get("business_date"):
            return str(result["business_date"])
    scheduled = row.get("scheduled_at")
    if isinstance(scheduled, datetime):
        return scheduled.date().isoformat()
    return None


def live_facts(backends: Backends, store: Store, entry: WorkflowEntry) -> LiveFacts:
    """The calibration, the deployment and its worker, and schedule parity, read now."""
    calibrations = store.calibrations(entry.dag_id, limit=1)
    calibrated_at = calibrations[0].at if calibrations else None
    if calibrated_at is not None and calibrated_at.tzinfo is None:
        calibrated_at = calibrated_at.replace(tzinfo=UTC)
    if not entry.deployment:
        return LiveFacts(None, calibrated_at=calibrated_at)
    prefect = backends.get("prefect")
    try:
        flow, _, name = entry.deployment.partition("/")
        dep = prefect.client.get(f"/deployments/name/{quote(flow, safe='')}/{quote(name, safe='')}")  # type: ignore[attr-defined]
        updated = parse_time(dep.get("updated")) if isinstance(dep, Mapping) else None
        blocker = prefect.readiness(entry.deployment).blocker
    except BridgeError as exc:
        return LiveFacts(entry.deployment, deployment_error=str(exc), calibrated_at=calibrated_at)
    return LiveFacts(
        entry.deployment,
        deployment_updated=updated,
        worker_blocker=blocker,
        calibrated_at=calibrated_at,
        parity=parity_problem(backends, entry.dag_id),
    )


def parity_problem(backends: Backends, dag_id: str) -> str | None:
    """None when both schedules fire at the same instants (or neither side schedules the workflow)."""
    from bridge import parity

    try:
        found = parity.check(backends, dag_id)
    except BridgeError as exc:
        text = str(exc)
        if "no cron schedule on Airflow" in text and not _prefect_schedules(backends, dag_id):
            return None  # run on demand on both sides: nothing to compare
        return f"schedule parity not established: {text}"
    return None if found.equal else f"schedules differ: {found.explanation}"


def _prefect_schedules(backends: Backends, dag_id: str) -> bool:
    entry = backends.catalog.entry(dag_id)
    if not entry.deployment:
        return False
    try:
        return bool(backends.get("prefect").get_workflow(entry.deployment).schedule)
    except BridgeError:
        return False


def gates_for(backends: Backends, store: Store, entry: WorkflowEntry) -> list[Gate]:
    """Every gate of ``entry`` against the store and the servers, now."""
    history = recorded(store, entry.dag_id, entry.cutover.streak)
    return evaluate(entry.cutover, history, entry.shadow.ignore, live_facts(backends, store, entry))
