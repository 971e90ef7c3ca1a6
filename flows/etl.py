"""Prefect ports of the scenario-3 ETL DAGs: ``etl-products``, ``etl-orders``, ``full-migration-weekly``.

Orchestration only; the loading lives in ``pipelines.etl``. Task names match the DAGs' task ids
(resolve_run, prepare_target, load_products / load_orders / migrate_all), every task returns the same
JSON values as its Airflow twin, and the flow's result is the run summary. All three run on the
``bigdata`` work pool. The business date follows the Airflow data interval of the same schedule
(``flows.common.resolve_run``), as in ``flows/cron.py``.
"""

from __future__ import annotations

from typing import Any

from prefect import Task, flow, get_run_logger, task

from flows.common import RESULTS, resolve_run, scheduled_start
from flows.spec import DeploymentSpec
from pipelines import etl as etl_pipeline
from pipelines.etl_schedules import ETL_ORDERS, ETL_PRODUCTS, FULL_MIGRATION_WEEKLY
from pipelines.targets import DEFAULT_TARGET

POOL = "bigdata"


@task(name="prepare_target", **RESULTS)
def prepare_target(run: dict[str, Any]) -> dict[str, Any]:
    tables = etl_pipeline.WORKFLOW_TABLES[run["workflow"]]
    return etl_pipeline.prepare_etl_target(None, run["target"], tables)


@task(name="load_products", **RESULTS)
def load_products(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    return etl_pipeline.etl_products(None, None, prepared["target"], run["business_date"])


@task(name="load_orders", **RESULTS)
def load_orders(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    return etl_pipeline.etl_orders(None, None, prepared["target"], run["business_date"])


@task(name="migrate_all", **RESULTS)
def migrate_all(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    return etl_pipeline.full_migration(None, None, prepared["target"], run["business_date"])


def _load(
    workflow: str, load: Task[..., dict[str, Any]], target: str, business_date: str | None
) -> dict[str, Any]:
    """resolve_run >> prepare_target >> ``load``, inside the calling flow; log and return the summary."""
    run = resolve_run(workflow, target, business_date, scheduled_start())
    summary = load(run, prepare_target(run))
    get_run_logger().info(
        "%s %s -> %s: read %s, wrote %s, checksum %s",
        summary["workflow"],
        summary["business_date"],
        summary["target"],
        summary["rows_read"],
        summary["rows_written"],
        summary["checksum"],
    )
    return summary


@flow(name="etl-products", **RESULTS)
def etl_products(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """Daily at 02:00 America/Sao_Paulo: full refresh of ``categories`` and ``products`` into ``<target>``;
    returns the run summary. ``business_date``: ``YYYY-MM-DD``, default from the scheduled start time."""
    return _load("etl_products", load_products, target, business_date)


@flow(name="etl-orders", **RESULTS)
def etl_orders(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """Hourly at :15 UTC: the orders changed since ``<target>``'s watermark, with their items, merged
    (newest version wins); returns the run summary."""
    return _load("etl_orders", load_orders, target, business_date)


@flow(name="full-migration-weekly", **RESULTS)
def full_migration_weekly(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """Sundays at 03:00 America/Sao_Paulo: every source table into ``<target>``, one snapshot, swapped in
    together; returns the run summary."""
    return _load("full_migration_weekly", migrate_all, target, business_date)


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
