"""Prefect ports of the scenario-1 cron DAGs: ``process_products`` and ``update_prices_daily``.

Orchestration only; the rules live in ``pipelines.cron``. Task names are the registry's (the DAGs' task
ids: resolve_run, prepare_target, process_products / update_prices) and every task and flow returns the
same JSON values as its Airflow twin: the flow's result is the run summary.

The business date follows the Airflow data interval of the same schedule (``flows.common.resolve_run``).
Names, schedules, tags and descriptions come from the registry (``pipelines.common.workflows``).
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.common import RESULTS, run_scheduled, scheduled_tasks
from flows.spec import DeploymentSpec
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.common.workflows import workflow
from pipelines.jobs import prices as prices_pipeline
from pipelines.jobs import products as products_pipeline

PROCESS_PRODUCTS = workflow("process_products")
UPDATE_PRICES_DAILY = workflow("update_prices_daily")


def _prepare_products(run: dict[str, Any]) -> dict[str, Any]:
    return products_pipeline.prepare_products_target(None, run["target"])


def _process_products(run: dict[str, Any], prepared: dict[str, Any], since: str | None) -> dict[str, Any]:
    return products_pipeline.process_products(None, None, prepared["target"], since, run["business_date"])


def _prepare_prices(run: dict[str, Any]) -> dict[str, Any]:
    return prices_pipeline.prepare_prices_target(None, run["target"])


def _update_prices(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    return prices_pipeline.update_prices(None, None, prepared["target"], run["business_date"])


prepare_products_target, run_process_products = scheduled_tasks(
    PROCESS_PRODUCTS, _prepare_products, _process_products
)
prepare_prices_target, run_update_prices = scheduled_tasks(
    UPDATE_PRICES_DAILY, _prepare_prices, _update_prices
)


@flow(name=PROCESS_PRODUCTS.flow_name, **RESULTS)
def process_products(
    target: str = DEFAULT_TARGET, business_date: str | None = None, since: str | None = None
) -> dict[str, Any]:
    """New or changed products into ``<target>.processed_products``; returns the run summary.

    ``business_date``: ``YYYY-MM-DD``, default from the scheduled start time. ``since``: ISO datetime
    lower bound of ``updated_at``, default the target's watermark.
    """
    return run_scheduled(
        PROCESS_PRODUCTS, prepare_products_target, run_process_products, target, business_date, since
    )


@flow(name=UPDATE_PRICES_DAILY.flow_name, **RESULTS)
def update_prices_daily(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """The day's prices into ``<target>.price_history``; returns the run summary. ``business_date``:
    ``YYYY-MM-DD``, default from the scheduled start time."""
    return run_scheduled(UPDATE_PRICES_DAILY, prepare_prices_target, run_update_prices, target, business_date)


DEPLOYMENTS: list[DeploymentSpec] = [
    DeploymentSpec.of(PROCESS_PRODUCTS.id, __name__),
    DeploymentSpec.of(UPDATE_PRICES_DAILY.id, __name__),
]
