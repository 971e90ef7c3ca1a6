"""The runs each scheduler made since a cursor, for many workflows at once, in few paged requests.

Airflow: ``POST /dags/~/dagRuns/list`` with the watched ``dag_ids`` and ``run_after`` in the window
(scheduled runs kept client-side: the batch body has no ``run_type`` filter). Prefect: ``POST
/flow_runs/filter`` with the watched deployments' ids and ``expected_start_time`` in the window (the
scheduler's runs, ``auto_scheduled``, kept client-side). Idle workflows cost nothing: a request covers them
all, and a page holds 100 (Airflow) or 200 (Prefect) runs. A run's **instant** is when its scheduler fired
it: Airflow's data interval end (``run_after`` for a run without one: both timetables put the fire time
there), Prefect's expected start time; both sides derive their business date from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bridge.backends.base import RunRef, RunState, parse_time
from bridge.backends.prefect import split_name

AIRFLOW_PAGE = 100  # the API caps a page at 100 runs
PREFECT_PAGE = 200  # the server refuses more than 200
ID_CHUNK = 500  # ids per request body


@dataclass(frozen=True)
class ScheduledRun:
    """One run a scheduler made: which side, the workflow's dag id, its instant, its state, its ref."""

    side: str
    workflow: str  # the catalog's key: the Airflow dag id
    instant: datetime  # UTC, whole seconds
    state: RunState
    ref: RunRef = field(repr=False)

    @property
    def final(self) -> bool:
        return self.state.is_final


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def instant_of(text: Any) -> datetime | None:
    moment = parse_time(text) if isinstance(text, str) else None
    return moment.astimezone(UTC).replace(microsecond=0) if moment else None


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), ID_CHUNK):
        yield list(items[i : i + ID_CHUNK])


def airflow_runs(
    backend: Any, dag_ids: Sequence[str], since: datetime, until: datetime
) -> list[ScheduledRun]:
    """Every scheduled run of ``dag_ids`` whose fire time is in [since, until], oldest first."""
    from bridge.backends.airflow import STATES

    runs: list[ScheduledRun] = []
    for chunk in _chunks(sorted(set(dag_ids))):
        offset = 0
        while True:
            body = {
                "dag_ids": chunk,
                "run_after_gte": iso(since),
                "run_after_lte": iso(until),
                "order_by": "run_after",
                "page_offset": offset,
                "page_limit": AIRFLOW_PAGE,
            }
            page = backend.client.post("/dags/~/dagRuns/list", json=body).get("dag_runs", [])
            for run in page:
                moment = instant_of(run.get("data_interval_end") or run.get("run_after"))
                if run.get("run_type") != "scheduled" or moment is None:
                    continue
                dag_id, run_id = run["dag_id"], run["dag_run_id"]
                ref = RunRef("airflow", dag_id, run_id, run_id, backend.run_url(dag_id, run_id))
                state = STATES.get(run.get("state") or "", RunState.UNKNOWN)
                runs.append(ScheduledRun("airflow", dag_id, moment, state, ref))
            if len(page) < AIRFLOW_PAGE:
                break
            offset += len(page)
    return sorted(runs, key=lambda r: (r.instant, r.workflow))


def deployment_ids(backend: Any, names: Sequence[str]) -> dict[str, str]:
    """``flow/deployment`` name -> deployment id, for those the server has (two or three requests)."""
    wanted = set(names)
    if not wanted:
        return {}
    short = sorted({split_name(n)[1] for n in wanted})
    found: list[Mapping[str, Any]] = []
    for chunk in _chunks(short):
        offset = 0
        while True:
            body = {"deployments": {"name": {"any_": chunk}}, "limit": PREFECT_PAGE, "offset": offset}
            page = backend.client.post("/deployments/filter", json=body)
            found.extend(page)
            if len(page) < PREFECT_PAGE:
                break
            offset += len(page)
    flow_ids = sorted({str(d["flow_id"]) for d in found})
    flows: dict[str, str] = {}
    for chunk in _chunks(flow_ids):
        body = {"flows": {"id": {"any_": chunk}}, "limit": PREFECT_PAGE}
        flows.update({str(f["id"]): str(f["name"]) for f in backend.client.post("/flows/filter", json=body)})
    out: dict[str, str] = {}
    for dep in found:
        name = f"{flows.get(str(dep['flow_id']), '?')}/{dep['name']}"
        if name in wanted:
            out[name] = str(dep["id"])
    return out


def prefect_runs(
    backend: Any, workflows: Mapping[str, tuple[str, str]], since: datetime, until: datetime
) -> list[ScheduledRun]:
    """Every scheduler-made flow run of the deployments ``workflows`` maps (deployment id -> (dag id,
    deployment name)) whose expected start time is in [since, until], oldest first."""
    from bridge.backends.prefect import STATES

    runs: list[ScheduledRun] = []
    for chunk in _chunks(sorted(workflows)):
        offset = 0
        while True:
            body = {
                "deployments": {"id": {"any_": chunk}},
                "flow_runs": {"expected_start_time": {"after_": iso(since), "before_": iso(until)}},
                "sort": "EXPECTED_START_TIME_ASC",
                "limit": PREFECT_PAGE,
                "offset": offset,
            }
            page = backend.client.post("/flow_runs/filter", json=body)
            for run in page:
                moment = instant_of(run.get("expected_start_time"))
                known = workflows.get(str(run.get("deployment_id")))
                if not run.get("auto_scheduled") or moment is None or known is None:
                    continue
                dag_id, name = known
                ref = RunRef("prefect", name, str(run["id"]), str(run["id"]), backend.run_url(run["id"]))
                state = STATES.get(run.get("state_type") or "", RunState.UNKNOWN)
                runs.append(ScheduledRun("prefect", dag_id, moment, state, ref))
            if len(page) < PREFECT_PAGE:
                break
            offset += len(page)
    return sorted(runs, key=lambda r: (r.instant, r.workflow))
