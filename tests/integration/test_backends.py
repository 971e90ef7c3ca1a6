"""Our lean backends against the real servers, with the official apache-airflow-client as the referee."""

from __future__ import annotations

import uuid

import pytest

from bridge.backends.airflow import AirflowBackend
from bridge.backends.base import RunState
from bridge.backends.prefect import PrefectBackend
from bridge.errors import AuthenticationError, UnknownWorkflowError
from tests.helpers import wait_for_dags


@pytest.fixture(scope="module")
def airflow(stack) -> AirflowBackend:  # type: ignore[no-untyped-def]
    return AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password)


@pytest.fixture(scope="module")
def prefect(stack, deployed) -> PrefectBackend:  # type: ignore[no-untyped-def]
    return PrefectBackend(stack.prefect_url)


@pytest.fixture(scope="module")
def airflow_run(airflow: AirflowBackend):  # type: ignore[no-untyped-def]
    wait_for_dags(airflow, ["hello_bridge"])
    ref = airflow.trigger("hello_bridge", {"name": "référence"}, f"test-{uuid.uuid4().hex[:8]}")
    airflow.wait(ref, 120)
    return ref


def test_dags_agree_with_the_official_client(airflow: AirflowBackend, official, airflow_run) -> None:  # type: ignore[no-untyped-def]
    from airflow_client.client.api.dag_api import DAGApi

    theirs = DAGApi(official).get_dags(limit=100)
    ours = {w.id: w for w in airflow.list_workflows()}
    assert set(ours) == {d.dag_id for d in theirs.dags}
    for dag in theirs.dags:
        assert ours[dag.dag_id].paused == dag.is_paused
        assert ours[dag.dag_id].owners == tuple(dag.owners)
        assert ours[dag.dag_id].tags == tuple(sorted(t.name for t in dag.tags))


def test_run_and_xcom_agree_with_the_official_client(airflow: AirflowBackend, official, airflow_run) -> None:  # type: ignore[no-untyped-def]
    from airflow_client.client.api.dag_run_api import DagRunApi
    from airflow_client.client.api.x_com_api import XComApi

    run = DagRunApi(official).get_dag_run("hello_bridge", airflow_run.run_id)
    obs = airflow.observe(airflow_run)
    assert obs.state == RunState.SUCCESS and run.state.value == "success"
    assert obs.start == run.start_date and obs.end == run.end_date
    xcom = XComApi(official).get_xcom_entry("hello_bridge", "greet", airflow_run.run_id, "return_value")
    assert obs.tasks["greet"].value == xcom.actual_instance.value
    assert obs.result == {"greeting": "hello référence", "target": "public", "length": 9}


def test_a_repeated_trigger_returns_the_same_run(airflow: AirflowBackend, airflow_run) -> None:  # type: ignore[no-untyped-def]
    again = airflow.trigger("hello_bridge", {"name": "other"}, airflow_run.correlation_id)
    assert again == airflow_run
    assert airflow.observe(again).result["greeting"] == "hello référence"  # the first run, not a new one


def test_wrong_password_is_an_authentication_error(stack) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthenticationError) as err:
        AirflowBackend(stack.airflow_url, stack.airflow_user, "not-the-password").list_workflows()
    assert "not-the-password" not in str(err.value)


def test_unknown_dag_suggests_near_names(airflow: AirflowBackend, airflow_run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownWorkflowError) as err:
        airflow.trigger("hello_bridg", {}, "x")
    assert err.value.suggestions == ["hello_bridge"]


def test_pause_and_resume_on_both_sides(airflow: AirflowBackend, prefect: PrefectBackend) -> None:
    """Both directions on both sides; each left as it was found (the registered state: Airflow's DAG
    active, the Prefect deployment paused), which later tests read as the stage's."""
    sides = ((airflow, "hello_bridge"), (prefect, "hello-bridge/hello_bridge"))
    before = [b.get_workflow(name).paused for b, name in sides]
    try:
        for backend, name in sides:
            backend.pause(name)
            assert backend.get_workflow(name).paused is True
            backend.resume(name)
            assert backend.get_workflow(name).paused is False
    finally:
        for (backend, name), was in zip(sides, before, strict=True):
            (backend.pause if was else backend.resume)(name)


def test_prefect_trigger_is_idempotent_and_results_are_read(prefect: PrefectBackend) -> None:
    corr = f"test-{uuid.uuid4().hex[:8]}"
    ref = prefect.trigger("hello-bridge/hello_bridge", {"name": "référence"}, corr)
    assert prefect.trigger("hello-bridge/hello_bridge", {"name": "x"}, corr).run_id == ref.run_id
    final = prefect.wait(ref, 180)
    assert final.state == RunState.SUCCESS
    obs = prefect.observe(ref)
    assert obs.result == {"greeting": "hello référence", "target": "public", "length": 9}
    assert obs.tasks["greet"].value == obs.result
    assert prefect.find_run(ref.run_id).correlation_id == corr
    assert ref.url.endswith(f"/runs/flow-run/{ref.run_id}")
