"""The checks of `bridge check` that ask the live servers and databases; see bridge.check."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from bridge.check.rules import (
    PERSIST_FIX,
    RUN_SUFFIX,
    CheckResult,
    dag_target,
    deployment_target,
    result_problem,
    table_keys,
    task_names,
)
from bridge.config import ShadowSettings, WorkflowEntry, default_warehouse_url
from bridge.errors import DatabaseError, UnknownWorkflowError, UsageError

if TYPE_CHECKING:
    from bridge.backends.airflow import AirflowBackend
    from bridge.backends.prefect import PrefectBackend
    from bridge.operations import Backends

__all__ = ["check_workflow", "shadow_target"]


# -- against the live servers -----------------------------------------------------------------------
def check_workflow(backends: Backends, entry: WorkflowEntry) -> list[CheckResult]:
    """Every check of one workflow, in order; the checks a missing DAG or deployment makes moot are left out.
    An orchestrator that cannot be reached raises (exit 3); a database that cannot is a failed check."""
    airflow = cast("AirflowBackend", backends.get("airflow"))
    dag_id = entry.dag_id
    out: list[CheckResult] = []
    details: Mapping[str, Any] | None = None
    try:
        details = airflow.dag_details(dag_id)
    except UnknownWorkflowError as exc:
        hint = f" (near: {', '.join(exc.suggestions)})" if exc.suggestions else ""
        out.append(
            CheckResult(
                dag_id,
                "dag",
                False,
                f"airflow has no DAG {dag_id!r}{hint}",
                "put the DAG file in Airflow's DAG folder (or fix the id: the catalog's key is the dag_id)",
            )
        )
    else:
        out.append(CheckResult(dag_id, "dag", True, f"airflow has DAG {dag_id}"))
        out.append(dag_target(entry, details.get("params")))
    out.extend(_prefect_checks(backends, entry, details is not None))
    url = backends.catalog.warehouse_url or default_warehouse_url()
    if entry.shadow.uses_targets:
        out.append(shadow_target(entry, url))
    if any(not t.exclude for t in entry.shadow.tables):
        out.append(_table_keys_live(entry, url))
    return out


def _prefect_checks(backends: Backends, entry: WorkflowEntry, have_dag: bool) -> list[CheckResult]:
    dag_id, dep = entry.dag_id, entry.deployment
    if not dep:
        return [
            CheckResult(
                dag_id,
                "deployment",
                False,
                f"workflow {dag_id} names no Prefect deployment",
                f'add deployment = "<flow-name>/<deployment-name>" to [workflows.{dag_id}]',
            )
        ]
    prefect = cast("PrefectBackend", backends.get("prefect"))
    try:
        raw = prefect.get_workflow(dep).raw
    except UnknownWorkflowError as exc:
        hint = f" (near: {', '.join(exc.suggestions)})" if exc.suggestions else ""
        return [
            CheckResult(
                dag_id,
                "deployment",
                False,
                f"prefect has no deployment {dep!r}{hint}",
                f"deploy the flow (python -m flows.deploy), or fix deployment in [workflows.{dag_id}]",
            )
        ]
    out = [
        CheckResult(dag_id, "deployment", True, f"prefect has deployment {dep}"),
        deployment_target(entry, raw.get("parameter_openapi_schema")),
    ]
    run = _last_completed_run(prefect, str(raw["id"]))
    if run is None:
        later = f"run it once (bridge trigger {dag_id} --backend prefect --wait), then check again"
        out.append(
            CheckResult(
                dag_id,
                "results",
                None,
                f"deployment {dep} has no completed run: its results are not known yet",
                later,
            )
        )
        if have_dag:
            out.append(
                CheckResult(
                    dag_id,
                    "task_names",
                    None,
                    f"deployment {dep} has no completed run: its task names are not known yet",
                    later,
                )
            )
        return out
    task_runs = _task_runs(prefect, str(run["id"]))
    out.append(_results(prefect, entry, run, task_runs))
    if have_dag:
        airflow = cast("AirflowBackend", backends.get("airflow"))
        tasks = airflow.client.get(f"/dags/{quote(dag_id, safe='')}/tasks").get("tasks", [])
        names = {RUN_SUFFIX.sub("", str(tr["name"])) for tr in task_runs}
        out.append(task_names(entry, [str(t["task_id"]) for t in tasks], names))
    return out


def _last_completed_run(prefect: PrefectBackend, deployment_id: str) -> Mapping[str, Any] | None:
    runs = prefect.client.post(
        "/flow_runs/filter",
        json={
            "deployments": {"id": {"any_": [deployment_id]}},
            "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
            "sort": "END_TIME_DESC",
            "limit": 1,
        },
    )
    return cast("Mapping[str, Any]", runs[0]) if runs else None


def _task_runs(prefect: PrefectBackend, flow_run_id: str) -> list[Mapping[str, Any]]:
    body = {"flow_runs": {"id": {"any_": [flow_run_id]}}, "sort": "EXPECTED_START_TIME_ASC", "limit": 200}
    return list(prefect.client.post("/task_runs/filter", json=body))


def _results(
    prefect: PrefectBackend,
    entry: WorkflowEntry,
    run: Mapping[str, Any],
    task_runs: Sequence[Mapping[str, Any]],
) -> CheckResult:
    """Every result of the run (the flow's, each completed task's) persisted as JSON and read back here
    through the storage its record names, as a shadow reads it."""
    subjects = [("the flow", run.get("state") or {})] + [
        (f"task {tr['name']}", tr.get("state") or {})
        for tr in task_runs
        if tr.get("state_type") == "COMPLETED"
    ]
    problems = []
    for what, state in subjects:
        problem = result_problem(state.get("data"), prefect.read_result)
        if problem:
            problems.append(f"{what} {problem}")
    where = f"its last completed run ({run.get('name')}, {run['id']})"
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return CheckResult(
            entry.dag_id, "results", False, f"in {where}: {'; '.join(problems[:3])}{more}", PERSIST_FIX
        )
    return CheckResult(
        entry.dag_id, "results", True, f"{where} persisted {len(subjects)} results as JSON, readable here"
    )


def _shadow_urls(settings: ShadowSettings, url: str) -> list[str]:
    return list(dict.fromkeys([url, *(t.prefect_url for t in settings.tables if t.prefect_url)]))


def shadow_target(entry: WorkflowEntry, url: str) -> CheckResult:
    """The bridge may create a table in the shadow target of each database the shadow side's tables live in
    (a new schema too, if it lacks one), in a transaction rolled back (MySQL: the probe table is dropped)."""
    from bridge.compare.connections import connect

    settings = entry.shadow
    shadow = settings.shadow_target(settings.primary_target)
    problems, places = [], []
    for each in _shadow_urls(settings, url):
        try:
            conn = connect(each, "shadow target", writable=True)
        except (DatabaseError, UsageError) as exc:
            problems.append(str(exc))
            continue
        places.append(conn.where)
        try:
            _probe_write(conn, shadow)
        except DatabaseError as exc:
            problems.append(str(exc))
        finally:
            conn.close()
    if problems:
        return CheckResult(
            entry.dag_id,
            "shadow_target",
            False,
            f"shadow target {shadow!r} is not writable: {'; '.join(problems)}",
            "grant the bridge's database user (and the Prefect workers') CREATE on that database or schema, "
            "or point [outputs] warehouse_url / the table's prefect_url at a database they may write",
        )
    return CheckResult(
        entry.dag_id, "shadow_target", True, f"shadow target {shadow!r} is writable in {', '.join(places)}"
    )


def _probe_write(conn: Any, schema: str) -> None:
    d = conn.dialect
    probe = d.table(schema, f"bridge_check_{secrets.token_hex(4)}")
    if d.name == "mysql":
        conn.execute(f"CREATE DATABASE IF NOT EXISTS {d.quote(schema)}")  # what copying start state does too
        conn.execute(f"CREATE TABLE {probe} (id INTEGER)")
        try:
            conn.execute(f"INSERT INTO {probe} VALUES (1)")
        finally:
            conn.execute(f"DROP TABLE {probe}")
        return
    if not conn.query("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)):
        conn.execute(f"CREATE SCHEMA {d.quote(schema)}")
    conn.execute(f"CREATE TABLE {probe} (id INTEGER)")
    conn.execute(f"INSERT INTO {probe} VALUES (1)")  # Connection.close rolls all of it back


def _table_keys_live(entry: WorkflowEntry, url: str) -> CheckResult:
    """table_keys, with the primary keys of the undeclared-key tables read from the primary target."""
    from bridge.compare.connections import connect
    from bridge.compare.targets import list_tables

    need = [t for t in entry.shadow.tables if not t.exclude and not t.key]
    found: dict[str, tuple[str, ...] | None] = {}
    for each in dict.fromkeys(t.airflow_url or url for t in need):
        try:
            conn = connect(each, "primary target")
        except (DatabaseError, UsageError) as exc:
            return CheckResult(
                entry.dag_id,
                "table_keys",
                False,
                f"cannot read the primary keys of {', '.join(t.table for t in need)}: {exc}",
                "declare each table's key in [[workflows.<dag>.shadow.tables]], or fix the database URL",
            )
        try:
            have = list_tables(conn, entry.shadow.primary_target)
        finally:
            conn.close()
        found.update({t.table: have.get(t.table) for t in need if (t.airflow_url or url) == each})
    return table_keys(entry, found)
