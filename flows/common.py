"""What the scheduled Prefect flows share: result settings, the ``resolve_run`` task, the scheduled start.

Business date: Prefect runs at the scheduled time, Airflow at the end of the data interval. With no
explicit ``business_date``, ``resolve_run`` applies Airflow's rule to the flow run's scheduled start
time (``pipelines.business_date``), so both sides process the same date for the same fire time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import task
from prefect.runtime import flow_run

from pipelines.business_date import resolve_business_date
from pipelines.etl_schedules import ETL_ORDERS, ETL_PRODUCTS, FULL_MIGRATION_WEEKLY
from pipelines.schedules import PROCESS_PRODUCTS, UPDATE_PRICES_DAILY, CronSchedule
from pipelines.summary import run_header
from pipelines.targets import validate_target

#: The Airflow dag_id of each scheduled workflow and the schedule its business date follows.
SCHEDULES: dict[str, CronSchedule] = {
    "process_products": PROCESS_PRODUCTS,
    "update_prices_daily": UPDATE_PRICES_DAILY,
    "etl_products": ETL_PRODUCTS,
    "etl_orders": ETL_ORDERS,
    "full_migration_weekly": FULL_MIGRATION_WEEKLY,
}

#: Every task and flow keeps its result, as JSON: the same values the Airflow twin returns over XCom.
RESULTS: dict[str, Any] = {"persist_result": True, "result_serializer": "json"}


@task(name="resolve_run", **RESULTS)
def resolve_run(workflow: str, target: str, business_date: str | None, scheduled: datetime) -> dict[str, Any]:
    """``{"workflow", "business_date", "target"}``: the explicit date, else the one Airflow would process."""
    day = resolve_business_date(business_date, SCHEDULES[workflow], scheduled=scheduled)
    return run_header(workflow, day, validate_target(target))


def scheduled_start() -> datetime:
    """The current flow run's scheduled start time."""
    scheduled: datetime = flow_run.scheduled_start_time
    return scheduled
