"""Scenario 3 through both real orchestrators: the same seeded source, each ETL run by Airflow and by
Prefect into two targets, gives identical targets and identical summaries (target name aside); then late
updates to the source, and the incremental ETL merges them identically on both sides."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from psycopg import sql

from bridge.backends.airflow import AirflowBackend
from bridge.backends.base import RunRef, RunState
from bridge.backends.prefect import PrefectBackend
from devkit.etl_seed import late_order_updates, seed_etl
from pipelines.adapters import db
from pipelines.etl.tables import EtlTable
from pipelines.jobs.etl import WORKFLOW_TABLES
from tests.helpers import wait_for_dags

pytestmark = pytest.mark.integration

WORKFLOWS = {  # dag_id -> (Prefect deployment, last task)
    "etl_products": ("etl-products/etl_products", "load_products"),
    "etl_orders": ("etl-orders/etl_orders", "load_orders"),
    "full_migration_weekly": ("full-migration-weekly/full_migration_weekly", "migrate_all"),
}
TASKS = {"resolve_run", "prepare_target"}
DAY = "2025-01-05"
ROWS, SEED = 1500, 11
TIMEOUT = 240


@pytest.fixture(scope="module")
def sides(stack, deployed, data_urls) -> tuple[AirflowBackend, PrefectBackend]:  # type: ignore[no-untyped-def]
    seed_etl(data_urls["BRIDGE_SOURCE_URL"], ROWS, SEED)
    airflow = AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password)
    wait_for_dags(airflow, WORKFLOWS)
    return airflow, PrefectBackend(stack.prefect_url)


def _dump(data_urls: dict[str, str], target: str, table: EtlTable) -> list[tuple[Any, ...]]:
    with db.warehouse_connection(data_urls["BRIDGE_WAREHOUSE_URL"]) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        return conn.execute(
            sql.SQL("SELECT * FROM {} ORDER BY {}").format(
                sql.Identifier(target, table.name), sql.SQL(", ").join(map(sql.Identifier, table.key))
            )
        ).fetchall()


def _run_pairs(
    sides: tuple[AirflowBackend, PrefectBackend], targets: dict[str, tuple[str, str]]
) -> dict[str, tuple[Any, Any]]:
    """Trigger every workflow on both sides at once, wait for all; return their observations."""
    airflow, prefect = sides
    refs: dict[str, tuple[RunRef, RunRef]] = {}
    for dag_id, (af_target, pf_target) in targets.items():
        refs[dag_id] = (
            airflow.trigger(
                dag_id, {"target": af_target, "business_date": DAY}, f"s3-{uuid.uuid4().hex[:10]}"
            ),
            prefect.trigger(
                WORKFLOWS[dag_id][0],
                {"target": pf_target, "business_date": DAY},
                f"s3-{uuid.uuid4().hex[:10]}",
            ),
        )
    observed = {}
    for dag_id, (af, pf) in refs.items():
        assert airflow.wait(af, TIMEOUT).state == RunState.SUCCESS, airflow.observe(af).error
        assert prefect.wait(pf, TIMEOUT).state == RunState.SUCCESS, prefect.observe(pf).error
        observed[dag_id] = (airflow.observe(af), prefect.observe(pf))
    return observed


def _assert_same(
    data_urls: dict[str, str], dag_id: str, af_obs: Any, pf_obs: Any, af_target: str, pf_target: str
) -> dict[str, Any]:
    af_summary, pf_summary = af_obs.result, pf_obs.result
    assert af_summary["target"] == af_target and pf_summary["target"] == pf_target
    assert {k: v for k, v in af_summary.items() if k != "target"} == {
        k: v for k, v in pf_summary.items() if k != "target"
    }
    assert set(af_obs.tasks) == set(pf_obs.tasks) == TASKS | {WORKFLOWS[dag_id][1]}
    assert af_obs.tasks[WORKFLOWS[dag_id][1]].value == af_summary
    for table in WORKFLOW_TABLES[dag_id]:
        af_rows, pf_rows = _dump(data_urls, af_target, table), _dump(data_urls, pf_target, table)
        assert af_rows == pf_rows, f"{dag_id}: {table.name} differs"
        assert len(af_rows) == af_summary["rows_total"][table.name]
    return af_summary


def test_each_etl_gives_the_same_target_and_summary_on_both_orchestrators(sides, data_urls) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    targets = {dag_id: (f"s3_af_{tag}_{i}", f"s3_pf_{tag}_{i}") for i, dag_id in enumerate(WORKFLOWS)}
    observed = _run_pairs(sides, targets)
    summaries = {
        dag_id: _assert_same(data_urls, dag_id, *observed[dag_id], *targets[dag_id]) for dag_id in WORKFLOWS
    }
    assert summaries["etl_products"]["rows_total"]["products"] == ROWS
    assert (
        summaries["etl_products"]["checksums"]["products"]
        == summaries["full_migration_weekly"]["checksums"]["products"]
    )
    assert summaries["etl_orders"]["checksums"] == {
        t: summaries["full_migration_weekly"]["checksums"][t] for t in ("orders", "order_items")
    }
    assert summaries["etl_orders"]["watermark_before"] == {"orders": None}

    # late updates to old orders and new orders: the increment on both sides, from their own watermarks
    changes = late_order_updates(data_urls["BRIDGE_SOURCE_URL"], updated=40, inserted=10, seed=SEED)
    again = _run_pairs(sides, {"etl_orders": targets["etl_orders"]})
    second = _assert_same(data_urls, "etl_orders", *again["etl_orders"], *targets["etl_orders"])
    assert second["watermark_before"] == summaries["etl_orders"]["watermark_after"]
    changed = len(changes["updated_ids"]) + len(changes["inserted_ids"])
    assert changed <= second["rows_read_by_table"]["orders"] <= changed + 1  # + one at the old watermark
    assert second["rows_total"]["orders"] == ROWS + 10
    assert second["checksums"] != summaries["etl_orders"]["checksums"]
