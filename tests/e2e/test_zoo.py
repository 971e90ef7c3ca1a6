"""The interface against DAGs nobody here wrote (the zoo: tests/zoo/), run as a person runs it: system
python3, trigger_script.py and bridge as subprocesses, the real Airflow 3 and Prefect 3 of the test stack,
the official apache-airflow-client reading the same server as the referee, and every --json output checked
against docs/json-schema.json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

import pytest

from tests.e2e.test_trigger_script import PY, one_error_line
from tests.helpers import REPO, conforms, wait_for
from tests.zoo import FAILURE, MAPPED, SKIPPED_INDICES, Zoo

BRIDGE = str(REPO / ".venv" / "bin" / "bridge")


def run(zoo: Zoo, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "trigger_script.py", *args],
        cwd=REPO,
        env=zoo.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def as_json(proc: subprocess.CompletedProcess[str], kind: str) -> Any:
    assert "Traceback" not in proc.stderr, proc.stderr
    return conforms(json.loads(proc.stdout), kind)


def failed_json(proc: subprocess.CompletedProcess[str], code: int, kind: str = "error") -> dict[str, Any]:
    """The one error object of a failure with --json: the exit code in it, its line on stderr."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    doc: dict[str, Any] = as_json(proc, kind)
    assert doc["exit_code"] == code
    if kind == "error":
        assert doc["error"] in one_error_line(proc)
    return doc


def task_instances(official: Any, dag_id: str, run_id: str) -> list[Any]:
    """Every task instance of one run as the referee reads it, map indices included, paged."""
    from airflow_client.client.api.task_instance_api import TaskInstanceApi

    api, found = TaskInstanceApi(official), []
    while True:
        page = api.get_task_instances(dag_id, run_id, limit=100, offset=len(found))
        found += page.task_instances
        if len(found) >= page.total_entries or not page.task_instances:
            return found


def native_state(ti: Any) -> str:
    return ti.state.value if ti.state is not None else "none"


# -- 1. paused DAGs, deployments that cannot start -----------------------------------------------
def test_a_paused_dag_is_refused_then_unpaused_with_unpause(zoo: Zoo, official: Any) -> None:
    from airflow_client.client.api.dag_api import DAGApi
    from airflow_client.client.api.dag_run_api import DagRunApi

    assert DAGApi(official).get_dag("zoo_paused").is_paused  # as Airflow creates it
    proc = run(zoo, "--dag-id", "zoo_paused", "--wait", "--json")
    error = failed_json(proc, 2)
    assert error["kind"] == "PausedWorkflowError" and "--unpause" in error["error"]
    assert "zoo_paused is paused on airflow" in error["error"]
    assert DagRunApi(official).get_dag_runs("zoo_paused").total_entries == 0  # nothing left queued

    proc = run(zoo, "--dag-id", "zoo_paused", "--wait", "--unpause", "--timeout", "180")
    assert proc.returncode == 0, proc.stderr
    assert "unpaused zoo_paused on airflow (--unpause)" in proc.stderr
    assert "zoo_paused on airflow: success" in proc.stdout and "task hello: success" in proc.stdout
    assert not DAGApi(official).get_dag("zoo_paused").is_paused
    assert DagRunApi(official).get_dag_runs("zoo_paused").total_entries == 1


def test_a_pool_no_worker_polls_is_refused_before_a_wait(zoo: Zoo) -> None:
    proc = run(zoo, "--dag-id", "zoo_idle", "--backend", "prefect", "--wait", "--json")
    error = failed_json(proc, 3)
    assert "no live worker polls prefect work pool 'zoo-idle'" in error["error"]
    assert "prefect worker start --pool zoo-idle" in error["error"]


def test_a_paused_deployment_runs_a_manual_run_and_says_its_schedule_is_paused(zoo: Zoo) -> None:
    proc = run(zoo, "--dag-id", "zoo_paused", "--backend", "prefect", "--wait", "--json", "--timeout", "180")
    assert proc.returncode == 0, proc.stderr
    assert "schedule is paused on prefect; this manual run goes ahead" in proc.stderr
    assert as_json(proc, "run")["state"] == "success"


# -- 3. a conf the DAG's params refuse: exit 2, one line naming the param and the rule ---------------
@pytest.mark.parametrize(
    ("conf", "said"),
    [
        ('{"count": 0}', ["count", "minimum"]),
        ('{"mode": "fast"}', ["count"]),
        ('{"count": 2, "mode": "x"}', ["mode"]),
    ],
)
def test_a_conf_against_the_params_schema_is_exit_2_one_line(
    zoo: Zoo, official: Any, conf: str, said: list[str]
) -> None:
    from airflow_client.client.api.dag_run_api import DagRunApi

    before = DagRunApi(official).get_dag_runs("zoo_params").total_entries
    proc = run(zoo, "--dag-id", "zoo_params", "--conf", conf, "--json")
    error = failed_json(proc, 2)
    assert error["kind"] == "RejectedError" and all(word in error["error"] for word in said), error
    assert "\n" not in error["error"] and len(error["error"]) < 400
    assert DagRunApi(official).get_dag_runs("zoo_params").total_entries == before


def test_a_conf_the_params_accept_runs(zoo: Zoo) -> None:
    proc = run(
        zoo, "--dag-id", "zoo_params", "--conf", '{"count": 3}', "--wait", "--json", "--timeout", "180"
    )
    assert proc.returncode == 0, proc.stderr
    assert as_json(proc, "run")["tasks"]["echo"]["value"] == {"count": 3, "mode": "fast"}


def test_parameters_the_flow_refuses_are_exit_2_on_prefect_too(zoo: Zoo) -> None:
    proc = run(zoo, "--dag-id", "zoo_params", "--backend", "prefect", "--conf", '{"count": "many"}', "--json")
    error = failed_json(proc, 2)
    assert error["kind"] == "RejectedError" and "count" in error["error"] and "\n" not in error["error"]


# -- 4. native task states: skipped branches, mapped indices, retries, task groups --------------------
def test_skipped_branches_show_as_skipped_and_the_run_is_a_success(zoo: Zoo, official: Any) -> None:
    proc = run(zoo, "--dag-id", "zoo_branch", "--wait", "--json", "--timeout", "180")
    assert proc.returncode == 0, proc.stderr
    doc = as_json(proc, "run")
    tasks = doc["tasks"]
    assert doc["state"] == "success"
    assert tasks["right"]["state"] == "skipped" and tasks["right"]["outcome"] == "success"
    assert tasks["left"]["state"] == "success" and tasks["left"]["value"] == "went left"
    referee = {
        ti.task_id: native_state(ti)
        for ti in task_instances(official, "zoo_branch", doc["run"].split("/", 1)[1])
    }
    assert {name: t["state"] for name, t in tasks.items()} == referee

    text = run(zoo, "--dag-id", "zoo_branch", "--wait", "--conf", '{"branch": "right"}', "--timeout", "180")
    assert text.returncode == 0, text.stderr
    assert "task left: skipped" in text.stdout and "task right: success" in text.stdout


def test_a_mapped_task_past_a_page_shows_its_indices_states(zoo: Zoo, official: Any) -> None:
    proc = run(zoo, "--dag-id", "zoo_mapped", "--wait", "--json", "--timeout", "300")
    assert proc.returncode == 0, proc.stderr
    doc = as_json(proc, "run")
    double = doc["tasks"]["double"]
    referee = sorted(
        (ti.map_index, native_state(ti))
        for ti in task_instances(official, "zoo_mapped", doc["run"].split("/", 1)[1])
        if ti.task_id == "double"
    )
    assert len(referee) == MAPPED and double["map_states"] == [state for _, state in referee]
    assert [i for i, s in enumerate(double["map_states"]) if s == "skipped"] == list(SKIPPED_INDICES)
    text = subprocess.run(
        [BRIDGE, "status", doc["run"]], cwd=REPO, env=zoo.env, capture_output=True, text=True, timeout=120
    )
    assert f"({MAPPED} mapped: {MAPPED - len(SKIPPED_INDICES)} success; skipped at 0, 50, 100)" in text.stdout


def test_a_retrying_task_shows_up_for_retry_then_succeeds(zoo: Zoo, official: Any) -> None:
    proc = run(zoo, "--dag-id", "zoo_retries", "--json")
    assert proc.returncode == 0, proc.stderr
    triggered = as_json(proc, "triggered")

    def seen(state: str) -> dict[str, Any] | None:
        status = subprocess.run(
            [BRIDGE, "status", triggered["run"], "--json"],
            cwd=REPO,
            env=zoo.env,
            capture_output=True,
            text=True,
        )
        doc: dict[str, Any] = conforms(json.loads(status.stdout), "run")
        return doc if doc["tasks"].get("flaky", {}).get("state") == state else None

    retrying = wait_for(lambda: seen("up_for_retry"), 120, "flaky in up_for_retry", interval=0.5)
    assert retrying["state"] == "running" and retrying["tasks"]["flaky"]["outcome"] != "success"
    done = wait_for(lambda: seen("success"), 120, "flaky to succeed on its second try", interval=1)
    assert done["tasks"]["flaky"]["value"] == "second try"
    tis = task_instances(official, "zoo_retries", triggered["run"].split("/", 1)[1])
    assert [ti.try_number for ti in tis] == [2]


def test_a_task_group_names_its_tasks_as_airflow_does(zoo: Zoo, official: Any) -> None:
    proc = run(zoo, "--dag-id", "zoo_group", "--wait", "--json", "--timeout", "180")
    assert proc.returncode == 0, proc.stderr
    doc = as_json(proc, "run")
    referee = {ti.task_id for ti in task_instances(official, "zoo_group", doc["run"].split("/", 1)[1])}
    assert set(doc["tasks"]) == referee == {"grp.a", "grp.b", "after"}
    assert doc["tasks"]["grp.b"]["value"] == "b" and doc["result"] == "after"


# -- 8. a failed run says why: the exception its task raised ---------------------------------------
@pytest.mark.parametrize("backend", ["airflow", "prefect"])
def test_a_failed_run_names_the_exception(zoo: Zoo, backend: str) -> None:
    proc = run(zoo, "--dag-id", "zoo_raises", "--backend", backend, "--wait", "--json", "--timeout", "180")
    doc = failed_json(proc, 1, "run")
    assert doc["state"] == "failed" and f"ValueError: {FAILURE}" in doc["error"]
    assert f"ValueError: {FAILURE}" in one_error_line(proc)  # the same reason on stderr, once
    assert proc.stdout.count('"exit_code"') == 1  # one object, not a run and an error


# -- 9. the JSON contract, --conf null, near names, Ctrl-C ------------------------------------------
def test_list_json_is_typed(zoo: Zoo, official: Any) -> None:
    from airflow_client.client.api.dag_api import DAGApi

    listed = {row["id"]: row for row in as_json(run(zoo, "--list", "--json"), "list")}
    for dag_id in ("zoo_group", "zoo_branch"):
        assert listed[dag_id]["paused"] is DAGApi(official).get_dag(dag_id).is_paused
    never_ran = listed["zoo_idle"]
    assert never_ran["last_state"] is None and never_ran["known_by"] == ["prefect"]


def test_conf_null_names_json_kinds(zoo: Zoo) -> None:
    proc = run(zoo, "--dag-id", "zoo_group", "--conf", "null", "--json")
    error = failed_json(proc, 2)
    assert error["error"].startswith("--conf must be a JSON object") and error["error"].endswith("not null")
    assert "NoneType" not in proc.stderr


def test_resume_with_a_typo_suggests_the_near_name(zoo: Zoo) -> None:
    proc = subprocess.run(
        [BRIDGE, "resume", "zoo_pasued", "--backend", "airflow"],
        cwd=REPO,
        env=zoo.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip()
    assert "zoo_pasued" in line and "zoo_paused" in line and "404" not in line


def test_ctrl_c_while_waiting_names_the_run_it_leaves(zoo: Zoo, official: Any) -> None:
    from airflow_client.client.api.dag_run_api import DagRunApi

    proc = subprocess.Popen(
        [PY, "trigger_script.py", "--dag-id", "zoo_retries", "--wait"],
        cwd=REPO,
        env=zoo.env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while "waiting for zoo_retries" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    os.kill(proc.pid, signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in rest
    line = next(ln for ln in rest.splitlines() if ln.startswith("trigger_script:"))
    run_id = line.split("airflow:zoo_retries/", 1)[1].split()[0].rstrip(";,:)")
    assert "goes on" in line or "still" in line
    DagRunApi(official).get_dag_run("zoo_retries", run_id)  # the run named exists
