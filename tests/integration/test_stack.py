"""The foundation: the real stack runs the sample DAG and the sample flow, and their results read back over the API."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import requests

from tests.helpers import wait_for


def _airflow_session(stack) -> requests.Session:  # type: ignore[no-untyped-def]
    resp = requests.post(
        f"{stack.airflow_url}/auth/token",
        json={"username": stack.airflow_user, "password": stack.airflow_password},
        timeout=30,
    )
    assert resp.status_code in (200, 201), resp.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
    return session


def test_every_service_is_healthy(stack) -> None:  # type: ignore[no-untyped-def]
    from bridge import devstack

    statuses = devstack.status(stack)
    assert {st.name for st in statuses} >= {
        "prefect-server",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "sqs",
        "prefect-worker-scheduler",
        "prefect-worker-worker",
        "prefect-worker-bigdata",
        "bridge-dashboard",
    }
    assert [st.name for st in statuses if not st.healthy] == []


def test_airflow_runs_the_sample_dag_and_returns_its_xcom(stack) -> None:  # type: ignore[no-untyped-def]
    api = f"{stack.airflow_url}/api/v2"
    session = _airflow_session(stack)
    wait_for(
        lambda: session.get(f"{api}/dags/hello_bridge").status_code == 200, 90, "hello_bridge to be parsed"
    )
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    resp = session.post(
        f"{api}/dags/hello_bridge/dagRuns",
        json={"dag_run_id": run_id, "logical_date": None, "conf": {"name": "ci"}},
    )
    assert resp.status_code == 200, resp.text

    def finished() -> str | None:
        state = session.get(f"{api}/dags/hello_bridge/dagRuns/{run_id}").json()["state"]
        return state if state in ("success", "failed") else None

    assert wait_for(finished, 120, "the DAG run") == "success"
    xcom = session.get(
        f"{api}/dags/hello_bridge/dagRuns/{run_id}/taskInstances/greet/xcomEntries/return_value"
    )
    assert xcom.json()["value"] == {"greeting": "hello ci", "target": "public", "length": 2}


def test_prefect_runs_the_sample_deployment_and_persists_its_result(stack, deployed) -> None:  # type: ignore[no-untyped-def]
    api = stack.prefect_url
    dep = requests.get(f"{api}/deployments/name/hello-bridge/hello_bridge", timeout=10)
    assert dep.status_code == 200, dep.text
    run = requests.post(
        f"{api}/deployments/{dep.json()['id']}/create_flow_run",
        json={"parameters": {"name": "ci"}},
        timeout=10,
    ).json()

    def finished() -> dict | None:
        fr = requests.get(f"{api}/flow_runs/{run['id']}", timeout=10).json()
        return fr if fr["state_type"] in ("COMPLETED", "FAILED", "CRASHED") else None

    flow_run = wait_for(finished, 180, "the flow run")
    assert flow_run["state_type"] == "COMPLETED"
    stored = Path(flow_run["state"]["data"]["storage_key"])
    assert stored.is_relative_to(stack.result_storage)
    assert json.loads(stored.read_text()) == {"greeting": "hello ci", "target": "public", "length": 2}
