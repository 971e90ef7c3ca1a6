"""Airflow 3 through its REST API v2 (JWT auth), with requests only: no airflow client import on the hot path."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bridge.backends.auth import AirflowJWTAuth
from bridge.backends.base import (
    Observation,
    Progress,
    RunRef,
    RunState,
    RunStatus,
    TaskObservation,
    Workflow,
    poll_until_final,
)
from bridge.backends.http import RestClient
from bridge.errors import BackendError, NotFoundError, UnknownWorkflowError, UsageError

PAGE = 100  # the API silently caps `limit` at 100

STATES = {
    "queued": RunState.QUEUED,
    "running": RunState.RUNNING,
    "success": RunState.SUCCESS,
    "failed": RunState.FAILED,
    "upstream_failed": RunState.FAILED,
    "skipped": RunState.SUCCESS,
    "removed": RunState.CANCELLED,
    "scheduled": RunState.QUEUED,
    "up_for_retry": RunState.RUNNING,
    "up_for_reschedule": RunState.RUNNING,
    "deferred": RunState.RUNNING,
    "restarting": RunState.RUNNING,
}


def _q(value: str) -> str:
    return quote(value, safe="")


class AirflowBackend:
    """Airflow 3 REST API v2."""

    name = "airflow"

    def __init__(self, url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.client = RestClient(
            "airflow", f"{self.url}/api/v2", AirflowJWTAuth(self.url, username, password, timeout), timeout
        )

    # -- workflows ------------------------------------------------------------------------------
    def _pages(self, path: str, key: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            body = self.client.get(path, params={**(params or {}), "limit": PAGE, "offset": len(items)})
            batch = body.get(key, [])
            items.extend(batch)
            if not batch or len(items) >= int(body.get("total_entries", 0)):
                return items

    def list_workflows(self) -> list[Workflow]:
        dags = self._pages("/dags", "dags")
        runs = self.client.get("/dags/~/dagRuns", params={"order_by": "-run_after", "limit": PAGE})
        last: dict[str, RunState] = {}
        for run in runs.get("dag_runs", []):
            last.setdefault(run["dag_id"], STATES.get(run.get("state") or "", RunState.UNKNOWN))
        return [self._workflow(d, last.get(d["dag_id"])) for d in dags]

    def get_workflow(self, workflow_id: str) -> Workflow:
        try:
            return self._workflow(self.client.get(f"/dags/{_q(workflow_id)}"))
        except NotFoundError as exc:
            known = [d["dag_id"] for d in self._pages("/dags", "dags")]
            raise UnknownWorkflowError(workflow_id, known) from exc

    def _workflow(self, dag: Mapping[str, Any], last: RunState | None = None) -> Workflow:
        return Workflow(
            id=dag["dag_id"],
            backend=self.name,
            description=dag.get("description") or "",
            schedule=dag.get("timetable_summary"),
            timezone=dag.get("timezone"),
            paused=bool(dag.get("is_paused")),
            tags=tuple(sorted(t["name"] for t in dag.get("tags") or [])),
            owners=tuple(dag.get("owners") or ()),
            last_run_state=last,
            raw=dag,
        )

    # -- runs -----------------------------------------------------------------------------------
    def run_url(self, dag_id: str, run_id: str) -> str:
        return f"{self.url}/dags/{_q(dag_id)}/runs/{_q(run_id)}"

    def trigger(
        self, workflow_id: str, conf: Mapping[str, Any], correlation_id: str, at: datetime | None = None
    ) -> RunRef:
        """Create a DAG run whose dag_run_id is the correlation id; a repeat returns the same run.
        ``at``: the run's logical_date, so Airflow derives its data interval as for that instant."""
        self.get_workflow(workflow_id)  # a clear "unknown workflow" before anything is written
        body = {
            "dag_run_id": correlation_id,
            "logical_date": at.isoformat() if at else None,
            "conf": dict(conf),
        }
        ref = RunRef(
            self.name, workflow_id, correlation_id, correlation_id, self.run_url(workflow_id, correlation_id)
        )
        try:
            self.client.post(f"/dags/{_q(workflow_id)}/dagRuns", json=body)
        except BackendError as exc:
            # 409: already triggered. Airflow 3.3 may answer a racing duplicate with a 500
            # "Unique constraint violation" instead; in both cases the run exists: return it.
            if exc.status not in (409, 500) or not self._exists(ref):
                raise
        return ref

    def _exists(self, ref: RunRef) -> bool:
        try:
            self.get_run(ref)
        except NotFoundError:
            return False
        return True

    def get_run(self, ref: RunRef) -> RunStatus:
        run = self.client.get(f"/dags/{_q(ref.workflow_id)}/dagRuns/{_q(ref.run_id)}")
        return RunStatus.from_payload(ref, run, STATES, ("state", "start_date", "end_date"))

    def find_run(self, native_id: str) -> RunRef:
        """A run from its native id ``DAG_ID/RUN_ID``."""
        dag_id, sep, run_id = native_id.partition("/")
        if not sep or not run_id:
            raise UsageError(f"an Airflow run id is DAG_ID/RUN_ID, not {native_id!r}")
        ref = RunRef(self.name, dag_id, run_id, run_id, self.run_url(dag_id, run_id))
        try:
            self.get_run(ref)
        except NotFoundError as exc:
            raise UsageError(f"airflow has no run {run_id!r} of DAG {dag_id!r}") from exc
        return ref

    def wait(self, ref: RunRef, timeout: float, progress: Progress | None = None) -> RunStatus:
        return poll_until_final(self.get_run, ref, timeout, progress, interval=1.0)

    def observe(self, ref: RunRef) -> Observation:
        status = self.get_run(ref)
        base = f"/dags/{_q(ref.workflow_id)}/dagRuns/{_q(ref.run_id)}"
        tis = self._pages(f"{base}/taskInstances", "task_instances")
        values = self.return_values(ref)
        tasks: dict[str, TaskObservation] = {}
        errors = []
        for ti in sorted(tis, key=lambda t: (t["task_id"], t.get("map_index", -1))):
            state = STATES.get(ti.get("state") or "", RunState.UNKNOWN)
            tasks[ti["task_id"]] = TaskObservation(ti["task_id"], state, values.get(ti["task_id"]))
            if state == RunState.FAILED:
                errors.append(f"task {ti['task_id']} {ti.get('state')}")
        leaves = self._leaf_tasks(ref.workflow_id)
        result = values.get(leaves[0]) if len(leaves) == 1 else {t: values.get(t) for t in leaves}
        return Observation(
            ref, status.state, tasks, result, status.start, status.end, "; ".join(errors) or None, ref.url
        )

    def return_values(self, ref: RunRef) -> dict[str, Any]:
        """Each task's XCom `return_value` (mapped tasks give a list, by map index)."""
        base = f"/dags/{_q(ref.workflow_id)}/dagRuns/{_q(ref.run_id)}/taskInstances"
        entries = self._pages(f"{base}/~/xcomEntries", "xcom_entries", {"xcom_key": "return_value"})
        values: dict[str, Any] = {}
        for entry in sorted(entries, key=lambda e: (e["task_id"], e.get("map_index", -1))):
            params = {"map_index": entry.get("map_index", -1)}
            body = self.client.get(f"{base}/{_q(entry['task_id'])}/xcomEntries/return_value", params=params)
            if entry.get("map_index", -1) >= 0:
                values.setdefault(entry["task_id"], []).append(body.get("value"))
            else:
                values[entry["task_id"]] = body.get("value")
        return values

    def _leaf_tasks(self, dag_id: str) -> list[str]:
        tasks = self.client.get(f"/dags/{_q(dag_id)}/tasks").get("tasks", [])
        return sorted(t["task_id"] for t in tasks if not t.get("downstream_task_ids"))

    # -- scheduling -----------------------------------------------------------------------------
    def pause(self, workflow_id: str) -> None:
        self.client.patch(f"/dags/{_q(workflow_id)}", json={"is_paused": True})

    def resume(self, workflow_id: str) -> None:
        self.client.patch(f"/dags/{_q(workflow_id)}", json={"is_paused": False})
