"""LAST RUN per DAG at any history size: one DAG holds 150 runs newer than every other DAG's last run, and
`trigger_script.py --list` still shows each DAG's own newest run, the official client reading the same
server as referee. The runs are real Airflow runs created through the API on DAGs paused for the test
(queued, never started), the older ones marked success or failed through the API; all are deleted after."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from bridge.backends.airflow import AirflowBackend
from bridge.backends.base import RunState
from bridge.errors import RejectedError
from tests.helpers import REPO, wait_for_dags

PY = shutil.which("python3") or "python3"
HEAVY = "hello_bridge"
NEWER = 150


def _q(value: str) -> str:
    return quote(value, safe="")


@pytest.fixture(scope="module")
def airflow(stack) -> AirflowBackend:  # type: ignore[no-untyped-def]
    return AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password)


def _settled_dags(airflow: AirflowBackend) -> list[dict[str, Any]]:
    """Every DAG of the stack once parsing has settled (the same count three polls running)."""
    wait_for_dags(airflow, [HEAVY])
    counts: list[int] = []
    deadline = time.monotonic() + 90
    while True:
        dags = airflow._pages("/dags", "dags")
        counts.append(len(dags))
        if (len(counts) >= 3 and len(set(counts[-3:])) == 1) or time.monotonic() > deadline:
            return dags
        time.sleep(3)


@pytest.fixture(scope="module")
def history(airflow: AirflowBackend) -> Iterator[dict[str, str]]:
    """The expected LAST RUN of the DAGs given runs here: every DAG but HEAVY gets one run, marked success
    or failed in turn; then HEAVY gets NEWER runs, newer than all of those, left queued."""
    dags = _settled_dags(airflow)
    paused = {d["dag_id"]: bool(d.get("is_paused")) for d in dags}
    created: list[tuple[str, str]] = []
    expected: dict[str, str] = {}
    try:
        for dag_id in paused:
            airflow.pause(dag_id)
        others = sorted(d for d in paused if d != HEAVY)
        for i, dag_id in enumerate(others):
            run_id = f"lastrun-old-{i}"
            try:
                airflow.client.post(
                    f"/dags/{_q(dag_id)}/dagRuns", json={"dag_run_id": run_id, "logical_date": None}
                )
            except RejectedError:  # its params refuse an empty conf (the zoo's zoo_params): left out
                continue
            created.append((dag_id, run_id))
            state = "success" if i % 2 == 0 else "failed"
            airflow.client.patch(f"/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}", json={"state": state})
            expected[dag_id] = state
        for i in range(NEWER):
            run_id = f"lastrun-new-{i:03d}"
            airflow.client.post(f"/dags/{HEAVY}/dagRuns", json={"dag_run_id": run_id, "logical_date": None})
            created.append((HEAVY, run_id))
        expected[HEAVY] = "queued"
        yield expected
    finally:
        for dag_id, run_id in created:
            airflow.client.request("DELETE", f"/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}")
        for dag_id, was_paused in paused.items():
            if not was_paused:
                airflow.resume(dag_id)


def _referee(official, dag_ids: list[str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each DAG's newest run's state as the official client reads it, one DAG at a time; `-` for none."""
    from airflow_client.client.api.dag_run_api import DagRunApi

    api = DagRunApi(official)
    states: dict[str, str] = {}
    for dag_id in dag_ids:
        runs = api.get_dag_runs(dag_id, limit=1, order_by=["-run_after"]).dag_runs
        states[dag_id] = str(runs[0].state.value) if runs else "-"
    return states


def _last_run_column(stdout: str) -> dict[str, str]:
    """WORKFLOW -> LAST RUN of `--list`'s table, sliced at the header's column offsets."""
    lines = stdout.splitlines()
    header = lines[0]
    start, end = header.index("LAST RUN"), header.index("KNOWN BY")
    return {ln.split()[0]: ln[start:end].strip() for ln in lines[1:] if ln.strip()}


def test_the_newest_page_of_one_dag_hides_no_other_dag(airflow: AirflowBackend, official, history) -> None:  # type: ignore[no-untyped-def]
    newest = airflow.client.get("/dags/~/dagRuns", params={"order_by": "-run_after", "limit": 100})
    assert {run["dag_id"] for run in newest["dag_runs"]} == {HEAVY}  # the old single page saw only HEAVY
    referee = _referee(official, sorted(history))
    assert referee == history
    calls: list[str] = []
    send = airflow.client.request

    def counted(method: str, path: str, **kwargs: Any) -> Any:
        calls.append(path)
        return send(method, path, **kwargs)

    airflow.client.request = counted  # type: ignore[method-assign]
    try:
        ours = airflow.last_runs(sorted(history))
    finally:
        airflow.client.request = send  # type: ignore[method-assign]
    assert {k: v.value for k, v in ours.items()} == {k: v for k, v in referee.items() if v != "-"}
    assert ours[HEAVY] is RunState.QUEUED
    assert len(calls) <= 3, calls  # HEAVY's page, then every other DAG's in one


def test_trigger_script_list_shows_each_dags_last_run(stack_env: dict[str, str], official, history) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [PY, "trigger_script.py", "--list"],
        cwd=REPO,
        env=stack_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    shown = _last_run_column(proc.stdout)
    referee = _referee(official, sorted(history))
    assert {dag_id: shown.get(dag_id) for dag_id in referee} == referee
    assert shown[HEAVY] == "queued" and {shown[d] for d in history if d != HEAVY} <= {"success", "failed"}
