"""Prefect 3 through its server's REST API, with requests only: `import prefect` costs 1.3-3 s, so never here.

Workflows are deployments, named ``flow-name/deployment-name``. The correlation id is the flow run's
idempotency key (a repeated trigger returns the same run) and a tag. Results are read from where the flow
persisted them, through the storage the result record names (``bridge.backends.results``: local files,
S3; any other storage is named in an unreadable value, never a silent mismatch).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bridge.backends.auth import BearerTokenAuth
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
    parse_time,
    poll_until_final,
)
from bridge.backends.http import RestClient, public_url
from bridge.backends.prefect_publish import PrefectPublishing
from bridge.backends.results import read_result as read_result
from bridge.backends.results import unreadable_reasons
from bridge.backends.task_states import merge_map_states, span
from bridge.errors import BackendError, NotFoundError, RejectedError, UnknownWorkflowError, UsageError

STATES = {
    "SCHEDULED": RunState.QUEUED,
    "PENDING": RunState.QUEUED,
    "PAUSED": RunState.QUEUED,
    "RUNNING": RunState.RUNNING,
    "CANCELLING": RunState.RUNNING,
    "COMPLETED": RunState.SUCCESS,
    "FAILED": RunState.FAILED,
    "CRASHED": RunState.FAILED,
    "CANCELLED": RunState.CANCELLED,
}
CORRELATION_TAG = "bridge-correlation:"
PAGE = 200  # the server's default cap on `limit`
_RUN_SUFFIX = re.compile(r"-[0-9a-f]{3}$")


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def split_name(workflow_id: str) -> tuple[str, str]:
    flow, sep, deployment = workflow_id.partition("/")
    if not sep or not flow or not deployment:
        raise UsageError(f"a Prefect workflow is named 'flow-name/deployment-name', not {workflow_id!r}")
    return flow, deployment


class PrefectBackend(PrefectPublishing):
    """Prefect 3 server API (artifacts and events: bridge.backends.prefect_publish)."""

    name = "prefect"

    def __init__(
        self, api_url: str, ui_url: str | None = None, api_key: str | None = None, timeout: float = 30.0
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.ui_url = public_url(ui_url or re.sub(r"/api$", "", self.api_url)).rstrip("/")
        self.client = RestClient(
            "prefect", self.api_url, BearerTokenAuth(api_key) if api_key else None, timeout
        )
        self._blocks: dict[str, Mapping[str, Any]] = {}

    # -- results --------------------------------------------------------------------------------
    def read_result(self, state: Mapping[str, Any] | None) -> Any:
        """The value a run's ``state`` persisted, read from the storage its record names."""
        return read_result(state, self.block_document)

    def block_document(self, block_id: str) -> Mapping[str, Any]:
        """A block document with its secrets (a result storage's credentials), read once per backend."""
        if block_id not in self._blocks:
            doc = self.client.get(
                f"/block_documents/{quote(block_id, safe='')}", params={"include_secrets": "true"}
            )
            self._blocks[block_id] = dict(doc)
        return self._blocks[block_id]

    # -- workflows ------------------------------------------------------------------------------
    def list_workflows(self) -> list[Workflow]:
        deployments = self._all("/deployments/filter")
        flows = {f["id"]: f["name"] for f in self._all("/flows/filter")}
        last = self.last_runs([d["id"] for d in deployments])
        return [self._workflow(d, flows.get(d["flow_id"], "?"), last.get(d["id"])) for d in deployments]

    def last_runs(self, deployment_ids: list[str]) -> dict[str, RunState]:
        """Each deployment's newest started run's state, at any history size: like Airflow's, one page of
        the deployments still unseen at a time, so one busy deployment cannot hide the others."""
        last: dict[str, RunState] = {}
        left = list(dict.fromkeys(deployment_ids))
        while left:
            runs = self.client.post(
                "/flow_runs/filter",
                json={
                    "deployments": {"id": {"any_": left}},
                    "sort": "START_TIME_DESC",
                    "limit": PAGE,
                    "flow_runs": {"state": {"type": {"not_any_": ["SCHEDULED"]}}},
                },
            )
            for run in runs:
                last.setdefault(
                    run["deployment_id"], STATES.get(run.get("state_type") or "", RunState.UNKNOWN)
                )
            left = [dep for dep in left if dep not in last]
            if len(runs) < PAGE:
                break
        return last

    def _all(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            batch = self.client.post(path, json={"limit": PAGE, "offset": len(items)})
            items.extend(batch)
            if len(batch) < PAGE:
                return items

    def get_workflow(self, workflow_id: str) -> Workflow:
        return self._workflow(self._deployment(workflow_id), split_name(workflow_id)[0])

    def _deployment(self, workflow_id: str) -> dict[str, Any]:
        flow, deployment = split_name(workflow_id)
        try:
            return dict(
                self.client.get(f"/deployments/name/{quote(flow, safe='')}/{quote(deployment, safe='')}")
            )
        except NotFoundError as exc:
            known = [w.id for w in self.list_workflows()]
            raise UnknownWorkflowError(workflow_id, known) from exc

    def _workflow(self, dep: Mapping[str, Any], flow_name: str, last: RunState | None = None) -> Workflow:
        schedule, tz = None, None
        active = [s["schedule"] for s in dep.get("schedules") or [] if s.get("active", True)]
        if active:
            sched = active[0]
            schedule = (
                sched.get("cron")
                or sched.get("rrule")
                or (f"every {sched['interval']} s" if "interval" in sched else None)
            )
            tz = sched.get("timezone")
        return Workflow(
            id=f"{flow_name}/{dep['name']}",
            backend=self.name,
            description=dep.get("description") or "",
            schedule=schedule,
            timezone=tz,
            paused=bool(dep.get("paused")),
            tags=tuple(sorted(dep.get("tags") or ())),
            owners=(),
            last_run_state=last,
            raw=dep,
        )

    # -- runs -----------------------------------------------------------------------------------
    def run_url(self, flow_run_id: str) -> str:
        return f"{self.ui_url}/runs/flow-run/{flow_run_id}"

    def trigger(
        self, workflow_id: str, conf: Mapping[str, Any], correlation_id: str, at: datetime | None = None
    ) -> RunRef:
        """Create a flow run of the deployment; the idempotency key makes a repeat return the same run.

        ``at`` (naive means UTC): the run is created in state SCHEDULED at that instant, as the scheduler
        would have made it, so the flow reads ``at`` as ``flow_run.scheduled_start_time`` (its expected
        start time). A past instant is due at once: a worker takes it on its next poll (after 15 s the
        server labels it Late, which changes neither its instant nor its pickup). The server's expected
        start time is checked against ``at``, so a flow never derives its date from another instant."""
        dep = self._deployment(workflow_id)
        body: dict[str, Any] = {
            "parameters": dict(conf),
            "idempotency_key": correlation_id,
            "tags": [f"{CORRELATION_TAG}{correlation_id}", "bridge"],
        }
        when = _utc(at) if at is not None else None
        if when is not None:
            body["state"] = {"type": "SCHEDULED", "state_details": {"scheduled_time": when.isoformat()}}
        try:
            run = self.client.post(f"/deployments/{dep['id']}/create_flow_run", json=body)
        except BackendError as exc:
            if exc.status in (409, 422):
                raise RejectedError(
                    f"prefect refused the parameters for {workflow_id}: {exc.reason} "
                    "(fix --conf, or map conf keys to flow parameters in bridge.toml)",
                    backend=self.name,
                    status=exc.status,
                ) from exc
            raise
        expected = parse_time(run.get("expected_start_time"))
        if when is not None and expected != when:
            raise BackendError(
                f"prefect flow run {run['id']} of {workflow_id} is scheduled at "
                f"{expected.isoformat() if expected else 'no time'}, not {when.isoformat()} "
                f"(correlation id {correlation_id!r} used before for another instant?)",
                backend=self.name,
            )
        return RunRef(self.name, workflow_id, run["id"], correlation_id, self.run_url(run["id"]))

    def get_run(self, ref: RunRef) -> RunStatus:
        run = self.client.get(f"/flow_runs/{ref.run_id}")
        return RunStatus.from_payload(ref, run, STATES, ("state_type", "start_time", "end_time"))

    def find_run(self, native_id: str) -> RunRef:
        """A run from its flow-run id; the correlation id comes back from its tag."""
        try:
            run = self.client.get(f"/flow_runs/{quote(native_id, safe='')}")
        except (NotFoundError, BackendError) as exc:
            if exc.status not in (404, 422):
                raise
            raise UsageError(f"prefect has no flow run {native_id!r}") from exc
        corr = next(
            (t.removeprefix(CORRELATION_TAG) for t in run.get("tags", []) if t.startswith(CORRELATION_TAG)),
            run.get("idempotency_key") or native_id,
        )
        workflow = str(run.get("deployment_id") or "")
        if workflow:
            dep = self.client.get(f"/deployments/{workflow}")
            flow = self.client.get(f"/flows/{dep['flow_id']}")
            workflow = f"{flow['name']}/{dep['name']}"
        return RunRef(self.name, workflow, native_id, corr, self.run_url(native_id))

    def wait(self, ref: RunRef, timeout: float, progress: Progress | None = None) -> RunStatus:
        return poll_until_final(self.get_run, ref, timeout, progress, interval=1.0)

    def observe(self, ref: RunRef) -> Observation:
        status = self.get_run(ref)
        task_runs = (
            self._settled_task_runs(ref.run_id) if status.state.is_final else self._task_runs(ref.run_id)
        )
        grouped: dict[str, list[tuple[str, Any]]] = {}
        runs: dict[str, list[dict[str, Any]]] = {}  # each task's runs, for when it ran and its first run's id
        for tr in task_runs:  # a task called (or mapped) several times keeps every value, in call order
            grouped.setdefault(_RUN_SUFFIX.sub("", tr["name"]), []).append(
                (tr.get("state_name") or tr.get("state_type") or "Unknown", self.read_result(tr.get("state")))
            )
            runs.setdefault(_RUN_SUFFIX.sub("", tr["name"]), []).append(tr)
        tasks = {}
        for name, calls in grouped.items():
            native, per_call = merge_map_states([state for state, _ in calls])
            tasks[name] = TaskObservation(
                name,
                STATES.get(native.upper(), _by_name(native)),
                calls[0][1] if len(calls) == 1 else [v for _, v in calls],
                native,
                per_call,
                **span(runs[name], "start_time", "end_time"),
                native_id=str(runs[name][0].get("id") or ""),
            )
        flow_state = status.raw.get("state") or {}
        result = self.read_result(flow_state)
        error = None
        if status.state in (RunState.FAILED, RunState.CANCELLED):
            error = flow_state.get("message") or status.raw.get("state_name")
        elif unreadable := unreadable_reasons([result, *(t.value for t in tasks.values())]):
            more = f" (and {len(unreadable) - 1} more values)" if len(unreadable) > 1 else ""
            error = unreadable[0] + more
        return Observation(
            ref,
            status.state,
            tasks,
            result,
            status.start,
            status.end,
            error,
            ref.url,
            str(status.raw.get("state_name") or status.raw.get("state_type") or ""),
        )

    def _task_runs(self, flow_run_id: str) -> list[dict[str, Any]]:
        return list(
            self.client.post(
                "/task_runs/filter",
                json={
                    "flow_runs": {"id": {"any_": [flow_run_id]}},
                    "sort": "EXPECTED_START_TIME_ASC",
                    "limit": 200,
                },
            )
        )

    def _settled_task_runs(self, flow_run_id: str, patience: float = 10.0) -> list[dict[str, Any]]:
        """Task runs reach the server as events, after the flow run may already be final: read until the
        list is non-empty, every task run is final, and two reads agree (or ``patience`` runs out)."""
        import time

        deadline = time.monotonic() + patience
        previous: list[tuple[str, str]] | None = None
        while True:
            runs = self._task_runs(flow_run_id)
            seen = sorted((r["id"], r.get("state_type") or "") for r in runs)
            settled = runs and all(STATES.get(t, RunState.UNKNOWN).is_final for _, t in seen)
            if (settled and seen == previous) or time.monotonic() > deadline:
                return runs
            previous = seen if settled else None
            time.sleep(0.3)

    # -- scheduling: through the deployment itself (PATCH paused), not the deprecated schedule calls --
    def pause(self, workflow_id: str) -> None:
        """Pause the schedule: the server deletes the deployment's scheduled (future) runs; manual runs
        still run."""
        self._patch(workflow_id, {"paused": True})

    def resume(self, workflow_id: str) -> None:
        self._patch(workflow_id, {"paused": False})

    def _patch(self, workflow_id: str, body: Mapping[str, Any], dep: Mapping[str, Any] | None = None) -> None:
        self.client.patch(f"/deployments/{(dep or self._deployment(workflow_id))['id']}", json=body)

    def deployment_state(self, workflow_id: str) -> ScheduleState:
        """The deployment's paused state, its parameters (``target`` among them) and its schedules (each
        with ``active``, ``slug`` and ``parameters``, which override the deployment's)."""
        dep = self._deployment(workflow_id)
        parameters = dict(dep.get("parameters") or {})
        target = parameters.get("target")
        return ScheduleState(
            paused=bool(dep.get("paused")),
            target=target if isinstance(target, str) else None,
            parameters=parameters,
            schedules=tuple(dep.get("schedules") or ()),
        )

    schedule_state = deployment_state

    def default_target(self, workflow_id: str) -> str | None:
        """The deployment's ``target`` parameter, or None (then the flow's own default)."""
        return self.deployment_state(workflow_id).target

    def set_default_target(self, workflow_id: str, target: str | None) -> None:
        """PATCH the deployment's parameters with ``target`` merged in (None: removed). The server deletes
        the future runs it had scheduled, and its scheduler makes them again with the new parameters."""
        dep = self._deployment(workflow_id)
        parameters = {k: v for k, v in (dep.get("parameters") or {}).items() if k != "target"}
        if target is not None:
            parameters["target"] = check_target(target)
        try:
            self._patch(workflow_id, {"parameters": parameters}, dep)
        except RejectedError as exc:
            raise RejectedError(
                f"prefect refused target {target!r} for {workflow_id}: {exc.reason}",
                backend=self.name,
                status=exc.status,
                reason=exc.reason,
            ) from exc

    def readiness(self, workflow_id: str) -> Readiness:
        """A paused deployment only stops its schedule (a manual run still runs: a note); what keeps a run
        from starting is its work pool: paused, or no worker polling it lately (status NOT_READY)."""
        dep = self._deployment(workflow_id)
        note = (
            f"{workflow_id}'s schedule is paused on prefect; this manual run goes ahead"
            if dep.get("paused")
            else None
        )
        pool_name = dep.get("work_pool_name")
        if not pool_name:
            ready = dep.get("status") in (None, "READY")
            blocker = None if ready else f"nothing serves prefect deployment {workflow_id} (status NOT_READY)"
            return Readiness(blocker=blocker, note=note, schedule_paused=bool(dep.get("paused")))
        pool = self.client.get(f"/work_pools/{quote(pool_name, safe='')}")
        status = pool.get("status")
        blocker = None
        if pool.get("is_paused") or status == "PAUSED":
            blocker = (
                f"prefect work pool {pool_name!r} is paused: runs of {workflow_id} wait until it is resumed"
            )
        elif status == "NOT_READY":
            blocker = (
                f"no live worker polls prefect work pool {pool_name!r}: a run of {workflow_id} waits until one "
                f"starts (`prefect worker start --pool {pool_name}`)"
            )
        return Readiness(blocker=blocker, note=note, schedule_paused=bool(dep.get("paused")))


def _by_name(name: str) -> RunState:
    """The common state of a Prefect state name whose type is not at hand (Cached, AwaitingRetry...)."""
    return {
        "cached": RunState.SUCCESS,
        "awaitingretry": RunState.QUEUED,
        "retrying": RunState.RUNNING,
        "late": RunState.QUEUED,
    }.get(name.lower(), RunState.UNKNOWN)
