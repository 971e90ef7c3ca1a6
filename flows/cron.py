"""Prefect ports of the scenario-1 cron DAGs: ``process-products`` and ``update-prices-daily``.

Orchestration only; the rules live in ``pipelines``. Task names match the DAGs' task ids
(resolve_run, prepare_target, process_products / update_prices) and every task and flow returns the
same JSON values as its Airflow twin: the flow's result is the run summary.

Business date: Prefect runs at the scheduled time, Airflow at the end of the data interval. With no
explicit ``business_date``, ``resolve_run`` applies Airflow's rule to the flow run's scheduled start
time (``pipelines.business_date``), so both sides process the same date for the same fire time.
The schedules themselves are in ``flows/deploy.py`` (from ``pipelines.schedules``, like the DAGs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from pipelines import prices as prices_pipeline
from pipelines import products as products_pipeline
from pipelines.business_date import resolve_business_date
from pipelines.schedules import PROCESS_PRODUCTS, UPDATE_PRICES_DAILY, CronSchedule
from pipelines.summary import run_header
from flows.spec import DeploymentSpec
from pipelines.targets import DEFAULT_TARGET, validate_target

#: The Airflow dag_id of each workflow and the schedule its business date follows.
SCHEDULES: dict[str, CronSchedule] = {
    "process_products": PROCESS_PRODUCTS,
    "update_prices_daily": UPDATE_PRICES_DAILY,
}

_RESULTS: dict[str, Any] = {"persist_result": True, "result_serializer": "json"}


@task(name="resolve_run", **_RESULTS)
def resolve_run(workflow: str, target: str, business_date: str | None, scheduled: datetime) -> dict[str, Any]:
    """``{"workflow", "business_date", "target"}``: the explicit date, else the one Airflow would process."""
    day = resolve_business_date(business_date, SCHEDULES[workflow], scheduled=scheduled)
    return run_header(workflow, day, validate_target(target))


@task(name="prepare_target", **_RESULTS)
def prepare_products_target(run: dict[str, Any]) -> dict[str, Any]:
    return products_pipeline.prepare_products_target(None, run["target"])


@task(name="process_products", **_RESULTS)
def run_process_products(run: dict[str, Any], prepared: dict[str, Any], since: str | None) -> dict[str, Any]:
    return products_pipeline.process_products(None, None, prepared["target"], since, run["business_date"])


@task(name="prepare_target", **_RESULTS)
def prepare_prices_target(run: dict[str, Any]) -> dict[str, Any]:
    return prices_pipeline.prepare_prices_target(None, run["target"])


@task(name="update_prices", **_RESULTS)
def run_update_prices(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    return prices_pipeline.update_prices(None, None, prepared["target"], run["business_date"])


def _scheduled_start() -> datetime:
    scheduled: datetime = flow_run.scheduled_start_time
    return scheduled


@flow(name="process-products", **_RESULTS)
def process_products(
    target: str = DEFAULT_TARGET, business_date: str | None = None, since: str | None = None
) -> dict[str, Any]:
    """Hourly: new or changed products into ``<target>.processed_products``; returns the run summary.

    ``business_date``: ``YYYY-MM-DD``, default from the scheduled start time. ``since``: ISO datetime
    lower bound of ``updated_at``, default the target's watermark.
    """
    run = resolve_run("process_products", target, business_date, _scheduled_start())
    summary = run_process_products(run, prepare_products_target(run), since)
    get_run_logger().info("process_products %s -> %s: %s", run["business_date"], run["target"], summary)
    return summary


@flow(name="update-prices-daily", **_RESULTS)
def update_prices_daily(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """Daily at 06:00 America/Sao_Paulo: the day's prices into ``<target>.price_history``; returns the
    run summary. ``business_date``: ``YYYY-MM-DD``, default from the scheduled start time."""
    run = resolve_run("update_prices_daily", target, business_date, _scheduled_start())
    summary = run_update_prices(run, prepare_prices_target(run))
    get_run_logger().info("update_prices_daily %s -> %s: %s", run["business_date"], run["target"], summary)
    return summary


DEPLOYMENTS: list[DeploymentSpec] = [
    DeploymentSpec(
        flow_name="process-products",
        name="process_products",
        entrypoint="flows/cron.py:process_products",
        schedule=PROCESS_PRODUCTS,
        tags=("scenario-1", "cron", "products"),
        description="Hourly: new or changed products into <target>.processed_products.",
    ),
    DeploymentSpec(
        flow_name="update-prices-daily",
        name="update_prices_daily",
        entrypoint="flows/cron.py:update_prices_daily",
        schedule=UPDATE_PRICES_DAILY,
        tags=("scenario-1", "cron", "prices"),
        description="Daily at 06:00 America/Sao_Paulo: the day's prices into <target>.price_history.",
    ),
]
