"""Scenario 1 through both real orchestrators: same seeded source, same business date, same rows and
summaries; one run at a time on each side; the business date agrees; the schedules agree."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bridge.backends.airflow import AirflowBackend
from bridge.backends.base import RunState
from bridge.backends.prefect import PrefectBackend
from devkit.catalog_seed import seed_products
from pipelines.adapters import db
from pipelines.adapters.warehouse import read_rows
from pipelines.jobs.prices import PRICE_HISTORY
from pipelines.jobs.products import PROCESSED_PRODUCTS
from tests.helpers import wait_for_dags

WORKFLOWS = {
    "process_products": ("process-products/process_products", PROCESSED_PRODUCTS),
    "update_prices_daily": ("update-prices-daily/update_prices_daily", PRICE_HISTORY),
}
DAY = "2024-12-31"


@pytest.fixture(scope="module")
def sides(stack, deployed, data_urls) -> tuple[AirflowBackend, PrefectBackend]:  # type: ignore[no-untyped-def]
    seed_products(data_urls["BRIDGE_SOURCE_URL"], 300, 7)
    airflow = AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password)
    wait_for_dags(airflow, WORKFLOWS)
    return airflow, PrefectBackend(stack.prefect_url)


def _corr() -> str:
    return f"s1-{uuid.uuid4().hex[:10]}"


def _rows(data_urls: dict[str, str], target: str, spec) -> list[tuple]:  # type: ignore[no-untyped-def]
    with db.warehouse_connection(data_urls["BRIDGE_WAREHOUSE_URL"]) as conn:
        return read_rows(conn, target, spec)


@pytest.mark.parametrize("dag_id", sorted(WORKFLOWS))
def test_both_orchestrators_write_the_same_rows_and_summary(sides, data_urls, dag_id: str) -> None:  # type: ignore[no-untyped-def]
    airflow, prefect = sides
    deployment, table = WORKFLOWS[dag_id]
    tag = uuid.uuid4().hex[:6]
    af_target, pf_target = f"s1_af_{tag}", f"s1_pf_{tag}"
    af = airflow.trigger(dag_id, {"target": af_target, "business_date": DAY}, _corr())
    pf = prefect.trigger(deployment, {"target": pf_target, "business_date": DAY}, _corr())
    assert airflow.wait(af, 240).state == RunState.SUCCESS
    assert prefect.wait(pf, 240).state == RunState.SUCCESS
    af_obs, pf_obs = airflow.observe(af), prefect.observe(pf)
    assert af_obs.result["target"] == af_target and pf_obs.result["target"] == pf_target
    assert af_obs.result["business_date"] == pf_obs.result["business_date"] == DAY
    assert af_obs.result["rows_written"] > 0
    same = {k: v for k, v in af_obs.result.items() if k != "target"}
    assert same == {k: v for k, v in pf_obs.result.items() if k != "target"}
    assert set(af_obs.tasks) == set(pf_obs.tasks)
    af_rows, pf_rows = _rows(data_urls, af_target, table), _rows(data_urls, pf_target, table)
    assert len(af_rows) == af_obs.result["rows_written"]
    assert af_rows == pf_rows


def test_one_run_at_a_time_on_each_side(sides) -> None:  # type: ignore[no-untyped-def]
    airflow, prefect = sides
    target = f"s1_conc_{uuid.uuid4().hex[:6]}"
    conf = {"target": target, "business_date": DAY}
    af = [airflow.trigger("update_prices_daily", conf, _corr()) for _ in range(2)]
    pf = [
        prefect.trigger("update-prices-daily/update_prices_daily", {**conf, "target": target + "_p"}, _corr())
        for _ in range(2)
    ]
    for side, refs in ((airflow, af), (prefect, pf)):
        done = [side.wait(ref, 300) for ref in refs]
        assert [d.state for d in done] == [RunState.SUCCESS, RunState.SUCCESS]
        first, second = sorted(done, key=lambda d: d.start)
        assert second.start >= first.end, (
            f"{side.name} ran two at once: {first.start}-{first.end} / {second.start}"
        )


def test_business_date_follows_airflow_data_interval_on_both_sides(sides) -> None:  # type: ignore[no-untyped-def]
    """The interval 2024-12-30 06:00 → 2024-12-31 06:00 (Sao Paulo) fires at its end. Airflow processes the
    interval's start (a run triggered at that fire time gets exactly that data interval); the Prefect port,
    scheduled at the same fire time, must give the same business date."""
    airflow, prefect = sides
    interval_start = datetime(2024, 12, 30, 9, 0, tzinfo=UTC)  # 06:00 America/Sao_Paulo
    fire_time = interval_start + timedelta(days=1)
    tag = uuid.uuid4().hex[:6]
    corr = _corr()
    airflow.client.post(
        "/dags/update_prices_daily/dagRuns",
        json={
            "dag_run_id": corr,
            "logical_date": fire_time.isoformat(),
            "conf": {"target": f"s1_bd_af_{tag}"},
        },
    )
    af = airflow.find_run(f"update_prices_daily/{corr}")
    dep = prefect.client.get("/deployments/name/update-prices-daily/update_prices_daily")
    run = prefect.client.post(
        f"/deployments/{dep['id']}/create_flow_run",
        json={
            "parameters": {"target": f"s1_bd_pf_{tag}"},
            "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": fire_time.isoformat()}},
        },
    )
    pf = prefect.find_run(run["id"])
    assert airflow.wait(af, 300).state == RunState.SUCCESS
    assert prefect.wait(pf, 300).state == RunState.SUCCESS
    assert (
        airflow.get_run(af).raw["data_interval_start"].startswith(interval_start.strftime("%Y-%m-%dT%H:%M"))
    )
    assert airflow.observe(af).result["business_date"] == "2024-12-30"
    assert prefect.observe(pf).result["business_date"] == "2024-12-30"
