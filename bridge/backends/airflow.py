"""Airflow 3 through its REST API v2 (JWT auth), with requests only: no airflow client import on the hot path."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from bridge.backends.airflow_variables import AirflowVariables
from bridge.backends.auth import AirflowJWTAuth
from bridge.backends.base import (
    Observation,
    Progress,
    Readiness,
    RunRef,
    RunState,
    RunStatus,
    ScheduleState,
    TaskObservation,
    Workflow,
    check_target,
    merge_note,
    parse_time,
    poll_until_final,
)
from bridge.backends.http import RestClient, public_url
from bridge.backends.task_states import failure_reason, merge_map_states, span
from bridge.errors import BackendError, NotFoundError, RejectedError, UnknownWorkflowError, UsageError

PAGE = 100  # the API silently caps `limit` at 100
SHIFT_LIMIT = 59  # seconds a replayed logical_date may move past a taken one (under a cron minute)
#: The Variable a DAG reads its target from when the run's conf names none: the same name as
#: ``dags_legacy/dag_common.py``'s ``TARGET_VARIABLE_PREFIX`` (checked equal by the unit tests).
TARGET_VARIABLE_PREFIX = "bridge_target__"

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


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class AirflowBackend(AirflowVariables):
    """Airflow 3 REST API v2 (its Variables: bridge.backends.airflow_variables)."""

    name = "airflow"

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        timeout: float = 30.0,
        *,
        default_password: bool = False,
        prompt: Callable[[str], str] | None = None,
    ) -> None:
        """``default_password``/``prompt``: see AirflowJWTAuth (the dev default tried, a terminal's prompt)."""
        self.url = public_url(url).rstrip("/")  # a user:password@ would replace the JWT (requests' URL auth)
        auth = AirflowJWTAuth(
            self.url, username, password, timeout, default_password=default_password, prompt=prompt
        )
        self.client = RestClient("airflow", f"{self.url}/api/v2", auth, timeout)
        self._ready: set[str] = set()  # DAGs readiness() has just found: trigger need not look again

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
        last = self.last_runs([d["dag_id"] for d in dags])
        return [self._workflow(d, last.get(d["dag_id"])) for d in dags]

    def last_runs(self, dag_ids: list[str]) -> dict[str, RunState]:
        """Each DAG's newest run's state (by run_after), at any history size, in few batch requests.

        One ``dagRuns/list`` page of the DAGs still unseen, newest first; the DAGs it shows are dropped
        from the next request's filter, so a DAG with thousands of newer runs costs one request, not a page
        per hundred runs. A page with fewer than ``PAGE`` runs holds every DAG left that has runs."""
        last: dict[str, RunState] = {}
        left = list(dict.fromkeys(dag_ids))
        while left:
            body = {"dag_ids": left, "order_by": "-run_after", "page_offset": 0, "page_limit": PAGE}
            runs = self.client.post("/dags/~/dagRuns/list", json=body).get("dag_runs", [])
            for run in runs:
                last.setdefault(run["dag_id"], STATES.get(run.get("state") or "", RunState.UNKNOWN))
            left = [dag_id for dag_id in left if dag_id not in last]
            if len(runs) < PAGE:
                break
        return last

    def get_workflow(self, workflow_id: str) -> Workflow:
        return self._workflow(self._get_dag(workflow_id, ""))

    def dag_details(self, workflow_id: str) -> dict[str, Any]:
        """The DAG's details payload: timetable_summary (the cron), next_dagrun_*, timezone (the DAG's,
        not its timetable's), catchup, start_date..."""
        return self._get_dag(workflow_id, "/details")

    def _get_dag(self, workflow_id: str, suffix: str) -> dict[str, Any]:
        try:
            return dict(self.client.get(f"/dags/{_q(workflow_id)}{suffix}"))
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

        ``at`` (naive means UTC): run as if the scheduler had fired at that instant. It is sent as the
        run's logical_date with no data interval, so Airflow derives the interval itself (for a cron
        data-interval timetable, the last complete interval ending at or before ``at``: the one its
        scheduler runs at that instant). ``(dag_id, logical_date)`` is unique, and ``at`` is often taken:
        by the scheduled run of the next interval (its logical_date is its start, ``at``) or by an earlier
        replay of the instant. Then the run's logical_date is the first free whole second after ``at``
        (at most 59 s later), still with no interval: Airflow derives the same data interval from it (the
        last complete one before it), so the run sees the same data_interval_start/end, and the same
        business date, as for ``at``; only logical_date and what templates build on it (``ts``) show the
        shift. (A zero-length trigger timetable's interval would move with it.)"""
        if workflow_id not in self._ready:  # a clear "unknown workflow" before anything is written
            self.get_workflow(workflow_id)
        when = _utc(at) if at is not None else None
        body = {
            "dag_run_id": correlation_id,
            "logical_date": when.isoformat() if when else None,
            "conf": dict(conf),
        }
        ref = RunRef(
            self.name, workflow_id, correlation_id, correlation_id, self.run_url(workflow_id, correlation_id)
        )
        if not self._create_run(ref, body) and when is not None:
            self._create_shifted(ref, body, when)
        return ref

    def _create_run(self, ref: RunRef, body: Mapping[str, Any]) -> bool:
        """POST the run; False if a unique constraint other than our own run id refused it."""
        try:
            self.client.post(f"/dags/{_q(ref.workflow_id)}/dagRuns", json=body)
        except RejectedError as exc:  # a conf against the DAG's params schema, a missing required param
            raise RejectedError(
                f"airflow refused the conf for {ref.workflow_id}: {exc.reason} (fix --conf)",
                backend=self.name,
                status=exc.status,
                reason=exc.reason,
            ) from exc
        except BackendError as exc:
            # 409: a unique constraint. Airflow 3.3 may answer a racing duplicate with a 500 "Unique
            # constraint violation" instead. If our run id exists, this is a repeat: the run is there.
            if exc.status not in (409, 500):
                raise
            if self._exists(ref):
                return True
            if body.get("logical_date") is None:
                raise
            return False
        return True

    def _create_shifted(self, ref: RunRef, body: Mapping[str, Any], at: datetime) -> None:
        """The run of instant ``at`` whose logical_date is taken, at the first free second after it."""
        for _ in range(3):  # a racing trigger may take the second picked
            taken = self._logical_dates(ref.workflow_id, at, at + timedelta(seconds=SHIFT_LIMIT))
            free = [at + timedelta(seconds=k) for k in range(1, SHIFT_LIMIT + 1)]
            free = [moment for moment in free if moment not in taken]
            if not free:
                break
            if self._create_run(ref, {**body, "logical_date": free[0].isoformat()}):
                return
        raise BackendError(
            f"airflow: {ref.workflow_id} has runs at every logical_date from {at.isoformat()} to "
            f"{SHIFT_LIMIT} s later; cannot replay that instant again",
            backend=self.name,
            status=409,
        )

    def _logical_dates(self, dag_id: str, start: datetime, end: datetime) -> set[datetime]:
        """The logical dates of the DAG's runs from ``start`` to ``end``, both inclusive."""
        params = {"logical_date_gte": start.isoformat(), "logical_date_lte": end.isoformat()}
        runs = self._pages(f"/dags/{_q(dag_id)}/dagRuns", "dag_runs", params)
        return {moment for run in runs if (moment := parse_time(run.get("logical_date"))) is not None}

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
        """The run, each task in Airflow's own state (a mapped task: each index's, when they differ), its
        values, and for each task that failed the exception its log names."""
        status = self.get_run(ref)
        base = f"/dags/{_q(ref.workflow_id)}/dagRuns/{_q(ref.run_id)}"
        tis = self._pages(f"{base}/taskInstances", "task_instances")
        values = self.return_values(ref)
        by_task: dict[str, list[dict[str, Any]]] = {}
        for ti in sorted(tis, key=lambda t: (t["task_id"], t.get("map_index", -1))):
            by_task.setdefault(ti["task_id"], []).append(ti)
        tasks: dict[str, TaskObservation] = {}
        errors = []
        for task_id, instances in by_task.items():
            native, per_index = merge_map_states([ti.get("state") or "none" for ti in instances])
            state = STATES.get(native, RunState.UNKNOWN)
            timing = span(instances, "start_date", "end_date")
            tasks[task_id] = TaskObservation(task_id, state, values.get(task_id), native, per_index, **timing)
            for ti in instances:
                if ti.get("state") == "failed":
                    errors.append(self._failure(base, ti))
        leaves = self._leaf_tasks(ref.workflow_id)
        result = values.get(leaves[0]) if len(leaves) == 1 else {t: values.get(t) for t in leaves}
        error = "; ".join(errors) or (
            f"run {status.raw.get('state')}" if status.state == RunState.FAILED else None
        )
        return Observation(
            ref,
            status.state,
            tasks,
            result,
            status.start,
            status.end,
            error,
            ref.url,
            str(status.raw.get("state") or ""),
        )

    def _failure(self, base: str, ti: Mapping[str, Any]) -> str:
        """``task T failed: ValueError: ...`` from the failed try's log, as the REST API serves it."""
        index = ti.get("map_index", -1)
        name = ti["task_id"] if index < 0 else f"{ti['task_id']}[{index}]"
        try:
            log = self.client.get(
                f"{base}/taskInstances/{_q(ti['task_id'])}/logs/{int(ti.get('try_number') or 1)}",
                params={"map_index": index},
                headers={"Accept": "application/json"},
            )
        except BackendError as exc:  # the reason is a bonus: never lose the failure for want of its log
            return f"task {name} failed (its log could not be read: {exc})"
        reason = failure_reason(log.get("content") if isinstance(log, Mapping) else None)
        return f"task {name} failed: {reason}" if reason else f"task {name} failed"

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
        self._set_paused(workflow_id, True)

    def resume(self, workflow_id: str) -> None:
        self._set_paused(workflow_id, False)

    def _set_paused(self, workflow_id: str, paused: bool) -> None:
        try:
            self.client.patch(f"/dags/{_q(workflow_id)}", json={"is_paused": paused})
        except NotFoundError as exc:
            known = [d["dag_id"] for d in self._pages("/dags", "dags")]
            raise UnknownWorkflowError(workflow_id, known) from exc

    def schedule_state(self, workflow_id: str) -> ScheduleState:
        """Paused or not (then no run starts, manual ones neither), the Variable's target, the timetable."""
        dag = self._get_dag(workflow_id, "")
        keys = ("timetable_summary", "timetable_description", "next_dagrun_run_after")
        schedule = {key: dag.get(key) for key in keys} if dag.get("timetable_summary") else None
        return ScheduleState(
            paused=bool(dag.get("is_paused")),
            target=self.default_target(workflow_id),
            schedules=(schedule,) if schedule else (),
        )

    # -- the default target: an Airflow Variable each DAG reads at run time (dag_common.run_target) -----
    def default_target(self, workflow_id: str) -> str | None:
        """The Variable ``bridge_target__<dag_id>`` (what a run whose conf names no target writes to), or
        None when it is not set (then the DAG's ``target`` param default)."""
        value = self.get_variable(TARGET_VARIABLE_PREFIX + workflow_id)
        return value.strip() or None if value is not None else None

    def set_default_target(self, workflow_id: str, target: str | None) -> None:
        """Set the Variable to ``target`` (checked, and the DAG must exist); None deletes it."""
        key = TARGET_VARIABLE_PREFIX + workflow_id
        if target is None:
            self.delete_variable(key)
        else:
            self._get_dag(workflow_id, "")  # an unknown DAG: UnknownWorkflowError, nothing written
            self.set_variable(key, check_target(target), f"bridge: {workflow_id}'s target when conf has none")

    # -- the verdict on the run's page: its note -------------------------------------------------
    def note(self, dag_id: str, run_id: str) -> str | None:
        """The DAG run's note as Airflow shows it (None: no note)."""
        run = self.client.get(f"/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}")
        return run.get("note") if isinstance(run, Mapping) else None

    def publish(self, ref: RunRef, text: str, key: str) -> None:
        """Put ``text`` in the DAG run's note (``update_mask=note``: its state is never touched), in place
        of the bridge's previous block; see :func:`bridge.backends.base.merge_note`."""
        path = f"/dags/{_q(ref.workflow_id)}/dagRuns/{_q(ref.run_id)}"
        note = merge_note(self.note(ref.workflow_id, ref.run_id), text, key)
        self.client.patch(path, json={"note": note}, params={"update_mask": "note"})

    def readiness(self, workflow_id: str) -> Readiness:
        """Paused, or no scheduler with a recent heartbeat (then nothing queued starts)."""
        dag = self._get_dag(workflow_id, "")
        health = self.client.get("/monitor/health")
        scheduler = health.get("scheduler") if isinstance(health, Mapping) else None
        blocker = None
        if isinstance(scheduler, Mapping) and scheduler.get("status") != "healthy":
            beat = scheduler.get("latest_scheduler_heartbeat")
            blocker = (
                f"airflow's scheduler is {scheduler.get('status') or 'not running'} (last heartbeat "
                f"{beat or 'never'}): a run of {workflow_id} stays queued until it is back"
            )
        self._ready.add(workflow_id)
        return Readiness(paused=bool(dag.get("is_paused")), blocker=blocker)
