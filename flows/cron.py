"""Prefect ports of the scenario-1 cron DAGs: ``process-products`` and ``update-prices-daily``.

Orchestration only; the rules live in ``pipelines``. Task names match the DAGs' task ids
(resolve_run, prepare_target, process_products / update_prices) and every task and flow returns the
same JSON values as its Airflow twin: the flow's result is the run summary.

The business date follows the Airflow data interval of the same schedule (``flows.common.resolve_run``).
The schedules themselves are in ``DEPLOYMENTS`` (from ``pipelines.schedules``, like the DAGs).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import RESULTS, resolve_run, scheduled_start
from flows.spec import DeploymentSpec
from pipelines import prices as prices_pipeline
from pipelines import products as products_pipeline
from pipelines.schedules import PROCESS_PRODUCTS, UPDATE_PRICES_DAILY
from pipelines.targets import DEFAULT_TARGET


@task(name="prepare_target", **RESULTS)
def prepare_products_target(run: dict[str, Any]) -> dict[str, Any]:
    return products_pipeline.prepare_products_target(None, run["target"])


@task(name="process_products", **RESULTS)
def run_process_products(run: dict[str, Any], prepared: dict[str, Any], since: str | None) -> dict[str, Any]:
    return products_pipeline.process_products(None, None, prepared["target"], since, run["business_date"])


@task(name="prepare_target", **RESULTS)
def prepare_prices_target(run: dict[str, Any]) -> dict[str, Any]:
    return prices_pipeline.prepare_prices_target(None, run["target"])


@task(name="update_prices", **RESULTS)
def run_update_prices(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    return prices_pipeline.update_prices(None, None, prepared["target"], run["business_date"])


@flow(name="process-products", **RESULTS)
def process_products(
    target: str = DEFAULT_TARGET, business_date: str | None = None, since: str | None = None
) -> dict[str, Any]:
    """Hourly: new or changed products into ``<target>.processed_products``; returns the run summary.

    ``business_date``: ``YYYY-MM-DD``, default from the scheduled start time. ``since``: ISO datetime
    lower bound of ``updated_at``, default the target's watermark.
    """
    run = resolve_run("process_products", target, business_date, scheduled_start())
    summary = run_process_products(run, prepare_products_target(run), since)
    get_run_logger().info("process_products %s -> %s: %s", run["business_date"], run["target"], summary)
    return summary


@flow(name="update-prices-daily", **RESULTS)
def update_prices_daily(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """Daily at 06:00 America/Sao_Paulo: the day's prices into ``<target>.price_history``; returns the
    run summary. ``business_date``: ``YYYY-MM-DD``, default from the scheduled start time."""
    run = resolve_run("update_prices_daily", target, business_date, scheduled_start())
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
