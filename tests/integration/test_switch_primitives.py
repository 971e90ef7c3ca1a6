"""The ground the cutover stands on, against the real servers: registering a port never resumes a schedule
or resets a target the switch set; a scheduled DAG's default target moves with an Airflow Variable (the
official apache-airflow-client reads it as referee); a Prefect deployment's ``target`` parameter patched
through our backend is what its next runs get, manual and scheduled."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.backends.airflow import TARGET_VARIABLE_PREFIX, AirflowBackend
from bridge.backends.base import RunState
from bridge.backends.prefect import PrefectBackend
from bridge.errors import UsageError
from tests.helpers import REPO, VENV_PY, wait_for, wait_for_dags

HELLO = "hello_bridge"
VARIABLE = f"{TARGET_VARIABLE_PREFIX}{HELLO}"

# Run in the repo's venv against the stack's Prefect: register a renamed copy of one shipped deployment.
DEPLOY_COPY = """
import json, sys
from dataclasses import replace
from flows.deploy import deploy_all, discover

a = json.loads(sys.argv[1])
spec = next(s for s in discover() if s.name == a["of"])
print(json.dumps(deploy_all([replace(spec, name=a["name"])], paused=a["paused"], active=a["active"])))
"""


def deploy_copy(
    env: dict[str, str], of: str, name: str, paused: bool | None = None, active: bool = False
) -> str:
    """Register the deployment ``of`` again as ``name`` through flows.deploy; its full name."""
    args = {"of": of, "name": name, "paused": paused, "active": [name] if active else []}
    proc = subprocess.run(
        [str(VENV_PY), "-c", DEPLOY_COPY, json.dumps(args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    (full_name,) = json.loads(proc.stdout.strip().splitlines()[-1])  # after what Prefect prints
    return str(full_name)


@pytest.fixture(scope="module")
def airflow(stack: Any) -> AirflowBackend:
    return AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password)


@pytest.fixture(scope="module")
def prefect(stack: Any, deployed: dict[str, str]) -> PrefectBackend:
    return PrefectBackend(stack.prefect_url)


@pytest.fixture()
def copies(prefect: PrefectBackend) -> Iterator[list[str]]:
    """Full names of the deployments a test registers; deleted after it."""
    made: list[str] = []
    yield made
    for full_name in made:
        dep = prefect.client.get(f"/deployments/name/{full_name}")
        prefect.client.request("DELETE", f"/deployments/{dep['id']}")


def scheduled_runs(prefect: PrefectBackend, workflow_id: str) -> list[dict[str, Any]]:
    dep_id = prefect.get_workflow(workflow_id).raw["id"]
    body = {
        "deployments": {"id": {"any_": [dep_id]}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
    }
    return list(prefect.client.post("/flow_runs/filter", json={**body, "limit": 200}))


# -- 1. flows.deploy follows the stage: new means paused; re-registering keeps what the switch set ----
def test_a_new_deployment_is_paused_and_a_redeploy_keeps_state_and_target(
    prefect: PrefectBackend, deployed: dict[str, str], copies: list[str]
) -> None:
    name = f"switch_{uuid.uuid4().hex[:6]}"
    full = deploy_copy(deployed, "update_prices_daily", name)
    copies.append(full)
    state = prefect.deployment_state(full)
    assert state.paused is True and state.target is None  # stage airflow: Airflow alone is scheduled
    assert [s["active"] for s in state.schedules] == [True]  # the schedule itself is kept, not dropped

    prefect.resume(full)  # what a promote does
    prefect.set_default_target(full, "switch_shadow")
    deploy_copy(deployed, "update_prices_daily", name)  # make demo, a new release
    state = prefect.deployment_state(full)
    assert state.paused is False and state.target == "switch_shadow"
    assert [s["schedule"]["cron"] for s in state.schedules] == ["0 6 * * *"]

    prefect.pause(full)
    deploy_copy(deployed, "update_prices_daily", name)
    assert prefect.deployment_state(full).paused is True  # paused stays paused too

    deploy_copy(deployed, "update_prices_daily", name, active=True)  # told explicitly: --active
    state = prefect.deployment_state(full)
    assert state.paused is False and state.target == "switch_shadow"  # the target is never clobbered

    fresh = f"switch_{uuid.uuid4().hex[:6]}"
    copies.append(deploy_copy(deployed, "update_prices_daily", fresh, active=True))
    assert prefect.deployment_state(copies[-1]).paused is False  # a new one, created active on request


# -- 2. an Airflow DAG's default target moves with a Variable set over the REST API -----------------
def test_an_airflow_run_without_a_target_follows_the_variable(airflow: AirflowBackend, official: Any) -> None:
    from airflow_client.client.api.variable_api import VariableApi
    from airflow_client.client.exceptions import NotFoundException

    wait_for_dags(airflow, [HELLO])

    def run(conf: dict[str, Any]) -> Any:
        ref = airflow.trigger(HELLO, conf, f"switch-{uuid.uuid4().hex[:8]}")
        assert airflow.wait(ref, 180).state == RunState.SUCCESS
        return airflow.observe(ref).result

    try:
        airflow.set_default_target(HELLO, "switch_first")
        airflow.set_default_target(HELLO, "switch_moved")  # an update of an existing Variable
        assert VariableApi(official).get_variable(VARIABLE).value == "switch_moved"  # the referee
        assert airflow.default_target(HELLO) == "switch_moved"
        assert airflow.schedule_state(HELLO).target == "switch_moved"
        assert run({"name": "moved"})["target"] == "switch_moved"
        assert run({"name": "named", "target": "switch_named"})["target"] == "switch_named"  # conf wins

        with pytest.raises(UsageError):
            airflow.set_default_target(HELLO, "Not-A-Schema")
        assert VariableApi(official).get_variable(VARIABLE).value == "switch_moved"  # nothing written

        airflow.set_default_target(HELLO, None)
        with pytest.raises(NotFoundException):
            VariableApi(official).get_variable(VARIABLE)
        assert airflow.default_target(HELLO) is None and airflow.delete_variable(VARIABLE) is False
        assert run({"name": "home"})["target"] == "public"  # hello_bridge's param default
    finally:
        airflow.delete_variable(VARIABLE)


# -- 3. a Prefect deployment's target, patched through our backend, is what its next runs get -------
def test_a_patched_prefect_target_is_what_the_next_runs_get(
    prefect: PrefectBackend, deployed: dict[str, str], copies: list[str]
) -> None:
    hello = deploy_copy(deployed, HELLO, f"switch_{uuid.uuid4().hex[:6]}")
    copies.append(hello)

    def run(conf: dict[str, Any]) -> Any:
        ref = prefect.trigger(hello, conf, f"switch-{uuid.uuid4().hex[:8]}")
        assert prefect.wait(ref, 180).state == RunState.SUCCESS
        return prefect.observe(ref).result

    assert prefect.readiness(hello).schedule_paused is True  # paused as registered: manual runs still run
    prefect.set_default_target(hello, "switch_pf")
    state = prefect.deployment_state(hello)
    assert state.target == "switch_pf" and state.parameters["target"] == "switch_pf"
    assert run({"name": "moved"})["target"] == "switch_pf"
    assert run({"name": "named", "target": "switch_named"})["target"] == "switch_named"
    prefect.set_default_target(hello, None)
    assert "target" not in prefect.deployment_state(hello).parameters
    assert run({"name": "home"})["target"] == "public"


def test_the_scheduled_runs_carry_the_patched_target_and_pausing_deletes_them(
    prefect: PrefectBackend, deployed: dict[str, str], copies: list[str]
) -> None:
    daily = deploy_copy(deployed, "update_prices_daily", f"switch_{uuid.uuid4().hex[:6]}")
    copies.append(daily)
    assert scheduled_runs(prefect, daily) == []  # registered paused: nothing scheduled
    prefect.set_default_target(daily, "switch_sched")
    prefect.resume(daily)
    runs = wait_for(lambda: scheduled_runs(prefect, daily), 150, f"scheduled runs of {daily}", interval=3)
    assert {run["parameters"].get("target") for run in runs} == {"switch_sched"}

    prefect.set_default_target(daily, "switch_again")  # the future runs are made again with it
    wait_for(
        lambda: {r["parameters"].get("target") for r in scheduled_runs(prefect, daily)} == {"switch_again"},
        150,
        "scheduled runs with the new target",
        interval=3,
    )
    prefect.pause(daily)
    wait_for(lambda: scheduled_runs(prefect, daily) == [], 30, "scheduled runs deleted by the pause")
