"""The cutover against the real Airflow 3 and Prefect 3, through `bridge` as a person runs it: promote;
cutover refused while gates are unmet (and with Airflow down), forced with a reason and audited; the
schedulers after each move read back by referees (the official apache-airflow-client for Airflow, the
Prefect REST API for the deployment); retire; rollback with Prefect unreachable (Airflow restored, Prefect
pending), finished by a rerun. The workflow is left as it started (stage airflow) whatever happens."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge import config
from bridge.backends.airflow import TARGET_VARIABLE_PREFIX
from tests.helpers import REPO, conforms, free_port, wait_for_dags

BRIDGE = str(REPO / ".venv" / "bin" / "bridge")
DAG = "full_migration_weekly"  # weekly: its schedule does not fire during the test
DEPLOYMENT = "full-migration-weekly/full_migration_weekly"
SHADOW = "shadow_warehouse"


@pytest.fixture(scope="module")
def env(
    deployed: dict[str, str], tmp_path_factory: pytest.TempPathFactory, stack: Any
) -> Iterator[dict[str, str]]:
    """The stack's environment with a history store of this module's own; the workflow rolled back and
    its Variable removed at the end."""
    from bridge.backends.airflow import AirflowBackend

    wait_for_dags(AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password), [DAG])
    home = tmp_path_factory.mktemp("cutover-home")
    env = {**deployed, "BRIDGE_HOME": str(home)}
    try:
        yield env
    finally:
        bridge(env, "rollback", DAG, "--reason", "test teardown")


def bridge(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([BRIDGE, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def airflow_side(official: Any) -> tuple[bool, str | None]:
    """(paused, the Variable's target or None), read by the official client."""
    from airflow_client.client.api.dag_api import DAGApi
    from airflow_client.client.api.variable_api import VariableApi
    from airflow_client.client.exceptions import NotFoundException

    paused = bool(DAGApi(official).get_dag(DAG).is_paused)
    try:
        target = VariableApi(official).get_variable(TARGET_VARIABLE_PREFIX + DAG).value
    except NotFoundException:
        target = None
    return paused, target


def prefect_side(env: dict[str, str]) -> tuple[bool, str | None]:
    """(paused, the deployment's target parameter or None), read over Prefect's REST API."""
    flow, name = DEPLOYMENT.split("/")
    dep = requests.get(f"{env['BRIDGE_PREFECT_URL']}/deployments/name/{flow}/{name}", timeout=30).json()
    return bool(dep["paused"]), (dep.get("parameters") or {}).get("target")


def stage_history(env: dict[str, str]) -> list[dict[str, Any]]:
    doc = conforms(json.loads(bridge(env, "stages", DAG, "--history", "--json").stdout), "stages")
    return list(doc["history"])


def test_no_workflow_has_both_schedulers_on_its_primary_target(env: dict[str, str], official: Any) -> None:
    """As flows.deploy registers the ports (what `make demo` runs), every workflow's two schedulers agree
    with its stage (airflow): Prefect's schedules paused, Airflow's on the primary, read from both servers."""
    from airflow_client.client.api.dag_api import DAGApi

    rows = conforms(json.loads(bridge(env, "status", "--json").stdout), "workflow_status")
    assert {r["workflow"] for r in rows} == set(config.load().workflows)
    for row in rows:
        assert row["stage"] == "airflow" and row["drift"] == [], row
        deployment = config.load().workflows[row["workflow"]].deployment
        flow, name = str(deployment).split("/")
        dep = requests.get(f"{env['BRIDGE_PREFECT_URL']}/deployments/name/{flow}/{name}", timeout=30).json()
        assert dep["paused"] is True and (dep.get("parameters") or {}).get("target") in (None, "warehouse")
        assert DAGApi(official).get_dag(row["workflow"]).is_paused is False


def test_a_workflow_moves_through_the_stages_and_back(env: dict[str, str], official: Any) -> None:
    # registered by flows.deploy: Prefect's schedule paused, Airflow's on the primary target
    assert prefect_side(env)[0] is True and airflow_side(official) == (False, None)
    status = json.loads(bridge(env, "status", DAG, "--json").stdout)
    assert (
        status[0]["stage"] == "airflow"
        and status[0]["drift"] == []
        and status[0]["next"] == f"bridge promote {DAG}"
    )

    proc = bridge(env, "promote", DAG, "--actor", "tester", "--reason", "port ready")
    assert proc.returncode == 0, proc.stderr
    assert f"prefect: scheduled runs of {DEPLOYMENT} now write to {SHADOW}" in proc.stdout
    assert proc.stdout.index("now write to") < proc.stdout.index(f"prefect: resumed {DEPLOYMENT}")
    assert f"{DAG}: airflow -> shadow, change #" in proc.stdout and "by tester" in proc.stdout
    assert prefect_side(env) == (False, SHADOW) and airflow_side(official) == (False, None)

    # gates unmet (no comparisons, no calibration): refused, exit 8, nothing moved
    proc = bridge(env, "cutover", DAG, "--json")
    assert proc.returncode == 8, proc.stderr
    refused = json.loads(proc.stdout)
    unmet = {g["gate"] for g in refused["gates"] if not g["ok"]}
    assert {"streak", "scheduled_evidence", "calibration"} <= unmet, refused
    assert prefect_side(env) == (False, SHADOW) and airflow_side(official) == (False, None)
    gates = bridge(env, "gates", DAG, "--json")
    assert gates.returncode == 8 and not conforms(json.loads(gates.stdout), "gates")["ok"]

    # --force needs a reason; with Airflow down, nothing moves (exit 3) and the stage stays
    assert bridge(env, "cutover", DAG, "--force").returncode == 2
    down = {**env, "BRIDGE_AIRFLOW_URL": f"http://127.0.0.1:{free_port()}"}
    proc = bridge(down, "cutover", DAG, "--force", "--reason", "airflow is down")
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert prefect_side(env) == (False, SHADOW) and [c["to"] for c in stage_history(env)] == ["shadow"]

    proc = bridge(env, "cutover", DAG, "--force", "--reason", "test: gates waived", "--actor", "tester")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.index(f"airflow: scheduled runs of {DAG} now write to {SHADOW}") < proc.stdout.index(
        f"prefect: scheduled runs of {DEPLOYMENT} now write to its default"
    )
    assert airflow_side(official) == (False, SHADOW)  # the reverse shadow
    assert prefect_side(env) == (False, None)  # the deployment's default: the primary target
    forced = stage_history(env)[-1]
    assert forced["forced"] is True and forced["reason"] == "test: gates waived" and forced["to"] == "prefect"
    status = json.loads(bridge(env, "status", DAG, "--json").stdout)[0]
    assert status["stage"] == "prefect" and status["drift"] == [] and status["next"] == f"bridge retire {DAG}"

    assert bridge(env, "retire", DAG).returncode == 0
    assert airflow_side(official)[0] is True

    # rollback with Prefect unreachable: Airflow back on the primary, Prefect's part pending (exit 0)
    unreachable = {**env, "BRIDGE_PREFECT_URL": f"http://127.0.0.1:{free_port()}/api"}
    proc = bridge(unreachable, "rollback", DAG, "--reason", "incident")
    assert proc.returncode == 0, proc.stderr
    assert "PENDING" in proc.stderr and f"bridge rollback {DAG}" in proc.stderr
    assert airflow_side(official) == (False, None)
    assert prefect_side(env) == (False, None)  # not reached: still active
    status = json.loads(bridge(env, "status", DAG, "--json").stdout)[0]
    assert status["stage"] == "airflow" and status["next"] == f"bridge rollback {DAG}"
    assert any("BOTH schedulers are active on the primary target" in p for p in status["drift"])

    proc = bridge(env, "rollback", DAG)  # Prefect answers again: the rerun finishes it
    assert proc.returncode == 0 and f"prefect: paused {DEPLOYMENT}" in proc.stdout
    assert prefect_side(env) == (True, None) and airflow_side(official) == (False, None)
    assert json.loads(bridge(env, "status", DAG, "--json").stdout)[0]["drift"] == []
    assert [(c["from"], c["to"]) for c in stage_history(env)] == [
        ("airflow", "shadow"),
        ("shadow", "prefect"),
        ("prefect", "retired"),
        ("retired", "airflow"),
    ]


def test_trigger_script_auto_follows_the_stores_stage(env: dict[str, str], tmp_path: Path) -> None:
    """The store's stage wins over bridge.toml's for `--backend auto` (listing says so too)."""
    from bridge.cutover.ledger import Ledger
    from bridge.store import Store

    home = tmp_path / "home"
    home.mkdir()
    local = {**env, "BRIDGE_HOME": str(home)}
    Ledger(Store(f"sqlite:///{home / 'history.db'}")).record("hello_bridge", "airflow", "prefect", reason="t")
    proc = subprocess.run(
        ["python3", "trigger_script.py", "--dag-id", "hello_bridge", "--json"],
        cwd=REPO,
        env=local,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["backend"] == "prefect"
    listed = json.loads(
        subprocess.run(
            ["python3", "trigger_script.py", "--list", "--json"],
            cwd=REPO,
            env=local,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert next(r for r in listed if r["id"] == "hello_bridge")["stage"] == "prefect"
