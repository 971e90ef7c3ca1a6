"""Prefect ports of the scenario-3 ETL DAGs: ``etl-products``, ``etl-orders``, ``full-migration-weekly``.

Orchestration only; the loading lives in ``pipelines.etl``. Task names match the DAGs' task ids
(resolve_run, prepare_target, load_products / load_orders / migrate_all), every task returns the same
JSON values as its Airflow twin, and the flow's result is the run summary. All three run on the
``bigdata`` work pool. The business date follows the Airflow data interval of the same schedule
(``pipelines.business_date``), as in ``flows/cron.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from flows.spec import DeploymentSpec
from pipelines import etl as etl_pipeline
from pipelines.business_date import resolve_business_date
from pipelines.etl_schedules import ETL_ORDERS, ETL_PRODUCTS, FULL_MIGRATION_WEEKLY
from pipelines.schedules import CronSchedule
from pipelines.summary import run_header
from pipelines.targets import DEFAULT_TARGET, validate_target

#: The Airflow dag_id of each workflow and the schedule its business date follows.
SCHEDULES: dict[str, CronSchedule] = {
    "etl_products": ETL_PRODUCTS,
    "etl_orders": ETL_ORDERS,
    "full_migration_weekly": FULL_MIGRATION_WEEKLY,
}
POOL = "bigdata"

_RESULTS: dict[str, Any] = {"persist_result": True, "result_serializer": "json"}


@task(name="resolve_run", **_RESULTS)
def resolve_run(workflow: str, target: str, business_date: str | None, scheduled: datetime) -> dict[str, Any]:
    """``{"workflow", "business_date", "target"}``: the explicit date, else the one Airflow would process."""
    day = resolve_business_date(business_date, SCHEDULES[workflow], scheduled=scheduled)
    return run_header(workflow, day, validate_target(target))


@task(name="prepare_target", **_RESULTS)
def prepare_target(run: dict[str, Any]) -> dict[str, Any]:
    tables = etl_pipeline.WORKFLOW_TABLES[run["workflow"]]
    return etl_pipeline.prepare_etl_target(None, run["target"], tables)


@task(name="load_products", **_RESULTS)
def load_products(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    return etl_pipeline.etl_products(None, None, prepared["target"], run["business_date"])


@task(name="load_orders", **_RESULTS)
def load_orders(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    return etl_pipeline.etl_orders(None, None, prepared["target"], run["business_date"])


@task(name="migrate_all", **_RESULTS)
def migrate_all(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    return etl_pipeline.full_migration(None, None, prepared["target"], run["business_date"])


def _scheduled_start() -> datetime:
    scheduled: datetime = flow_run.scheduled_start_time
    return scheduled


def _log(summary: dict[str, Any]) -> None:
    get_run_logger().info("%s %s -> %s: read %s, wrote %s, checksum %s", summary["workflow"],
                          summary["business_date"], summary["target"], summary["rows_read"],
                          summary["rows_written"], summary["checksum"])


@flow(name="etl-products", **_RESULTS)
def etl_products(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """Daily at 02:00 America/Sao_Paulo: full refresh of ``categories`` and ``products`` into ``<target>``;
    returns the run summary. ``business_date``: ``YYYY-MM-DD``, default from the scheduled start time."""
    run = resolve_run("etl_products", target, business_date, _scheduled_start())
    summary = load_products(run, prepare_target(run))
    _log(summary)
    return summary


@flow(name="etl-orders", **_RESULTS)
def etl_orders(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """Hourly at :15 UTC: the orders changed since ``<target>``'s watermark, with their items, merged
    (newest version wins); returns the run summary."""
    run = resolve_run("etl_orders", target, business_date, _scheduled_start())
    summary = load_orders(run, prepare_target(run))
    _log(summary)
    return summary


@flow(name="full-migration-weekly", **_RESULTS)
def full_migration_weekly(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """Sundays at 03:00 America/Sao_Paulo: every source table into ``<target>``, one snapshot, swapped in
    together; returns the run summary."""
    run = resolve_run("full_migration_weekly", target, business_date, _scheduled_start())
    summary = migrate_all(run, prepare_target(run))
    _log(summary)
    return summary


DEPLOYMENTS: list[DeploymentSpec] = [
    DeploymentSpec(
        flow_name="etl-products",
        name="etl_products",
        entrypoint="flows/etl.py:etl_products",
        schedule=ETL_PRODUCTS,
        work_pool=POOL,
        tags=("scenario-3", "etl", "products"),
        description="Daily 02:00 America/Sao_Paulo: full refresh of the products dimension into <target>.",
    ),
    DeploymentSpec(
        flow_name="etl-orders",
        name="etl_orders",
        entrypoint="flows/etl.py:etl_orders",
        schedule=ETL_ORDERS,
        work_pool=POOL,
        tags=("scenario-3", "etl", "orders"),
        description="Hourly at :15 UTC: changed orders and their items merged into <target> (watermark there).",
    ),
    DeploymentSpec(
        flow_name="full-migration-weekly",
        name="full_migration_weekly",
        entrypoint="flows/etl.py:full_migration_weekly",
        schedule=FULL_MIGRATION_WEEKLY,
        work_pool=POOL,
        tags=("scenario-3", "etl", "migration"),
        description="Sundays 03:00 America/Sao_Paulo: every source table into <target>, swapped in together.",
    ),
]
