"""Prefect ports of the scenario-3 ETL DAGs: ``etl_products``, ``etl_orders``, ``full_migration_weekly``.

Orchestration only; the loading lives in ``pipelines.jobs.etl``. Task names are the registry's (the
DAGs' task ids: resolve_run, prepare_target, load_products / load_orders / migrate_all), every task
returns the same JSON values as its Airflow twin, and the flow's result is the run summary. All three run
on the ``bigdata`` work pool. The business date follows the Airflow data interval of the same schedule
(``flows.common.resolve_run``), as in ``flows/cron.py``.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.common import RESULTS, run_scheduled, scheduled_tasks
from flows.spec import DeploymentSpec
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.common.workflows import workflow
from pipelines.jobs import etl as etl_pipeline

POOL = "bigdata"
ETL_PRODUCTS = workflow("etl_products")
ETL_ORDERS = workflow("etl_orders")
FULL_MIGRATION_WEEKLY = workflow("full_migration_weekly")


def _prepare(run: dict[str, Any]) -> dict[str, Any]:
    return etl_pipeline.prepare_etl_target(None, run["target"], etl_pipeline.WORKFLOW_TABLES[run["workflow"]])


def _load(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    return etl_pipeline.JOBS[run["workflow"]](None, None, prepared["target"], run["business_date"])


prepare_target, load_products = scheduled_tasks(ETL_PRODUCTS, _prepare, _load)
_, load_orders = scheduled_tasks(ETL_ORDERS, _prepare, _load)
_, migrate_all = scheduled_tasks(FULL_MIGRATION_WEEKLY, _prepare, _load)


@flow(name=ETL_PRODUCTS.flow_name, **RESULTS)
def etl_products(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """Full refresh of ``categories`` and ``products`` into ``<target>``; returns the run summary.
    ``business_date``: ``YYYY-MM-DD``, default from the scheduled start time."""
    return run_scheduled(ETL_PRODUCTS, prepare_target, load_products, target, business_date)


@flow(name=ETL_ORDERS.flow_name, **RESULTS)
def etl_orders(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """The orders changed since ``<target>``'s watermark, with their items, merged (newest version wins);
    returns the run summary."""
    return run_scheduled(ETL_ORDERS, prepare_target, load_orders, target, business_date)


@flow(name=FULL_MIGRATION_WEEKLY.flow_name, **RESULTS)
def full_migration_weekly(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """Every source table into ``<target>``, one snapshot, swapped in together; returns the run summary."""
    return run_scheduled(FULL_MIGRATION_WEEKLY, prepare_target, migrate_all, target, business_date)


DEPLOYMENTS: list[DeploymentSpec] = [
    DeploymentSpec.of(wf.id, __name__, work_pool=POOL)
    for wf in (ETL_PRODUCTS, ETL_ORDERS, FULL_MIGRATION_WEEKLY)
]
