"""Legacy DAG ``process_products``: every hour, new or changed products into ``<target>.processed_products``.

Orchestration only; the rules live in ``pipelines.products``. Schedule ``0 * * * *`` UTC with a data
interval (``CronDataIntervalTimetable``): the run that fires at the end of an hour processes the business
date of the hour's start. Params: ``target`` (schema to write into), ``business_date`` (``YYYY-MM-DD``;
default: from the data interval start), ``since`` (ISO datetime; default: the target's watermark).
The last task's XCom ``return_value`` (also the DAG result) is the run summary.

Tasks (same names as the Prefect flow ``process-products``): resolve_run >> prepare_target >>
process_products.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

from pipelines.business_date import resolve_business_date
from pipelines.schedules import PROCESS_PRODUCTS as SCHEDULE
from pipelines.summary import run_header
from pipelines.targets import DEFAULT_TARGET, TARGET_PATTERN, validate_target

DAG_ID = "process_products"


@dag(
    dag_id=DAG_ID,
    schedule=CronDataIntervalTimetable(SCHEDULE.cron, timezone=pendulum.timezone(SCHEDULE.timezone)),
    start_date=pendulum.datetime(2024, 1, 1, tz=SCHEDULE.timezone),
    catchup=False,
    max_active_runs=1,
    tags=["scenario-1", "cron", "products"],
    default_args={"owner": "catalog-team", "retries": 0},
    params={
        "target": Param(DEFAULT_TARGET, type="string", pattern=TARGET_PATTERN,
                        description="Schema the run writes into."),
        "business_date": Param(None, type=["null", "string"], format="date",
                               description="YYYY-MM-DD; empty: the data interval start's date (UTC)."),
        "since": Param(None, type=["null", "string"],
                       description="ISO datetime lower bound of updated_at; empty: the target's watermark."),
    },
    doc_md=__doc__,
)
def process_products_dag() -> Any:
    @task(task_id="resolve_run", multiple_outputs=False)
    def resolve_run() -> dict[str, Any]:
        context = get_current_context()
        params = context["params"]
        day = resolve_business_date(
            params.get("business_date"),
            SCHEDULE,
            interval_start=context.get("data_interval_start"),
            scheduled=context["dag_run"].run_after,  # manual run without a logical date
        )
        return run_header(DAG_ID, day, validate_target(params["target"]))

    @task(task_id="prepare_target", multiple_outputs=False)
    def prepare_target(run: dict[str, Any]) -> dict[str, Any]:
        from pipelines.products import prepare_products_target

        return prepare_products_target(None, run["target"])

    @task(task_id="process_products", multiple_outputs=False)
    def process_products(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
        from pipelines.products import process_products as process

        since = get_current_context()["params"].get("since")
        return process(None, None, prepared["target"], since, run["business_date"])

    run = resolve_run()
    return process_products(run, prepare_target(run))


dag_object = process_products_dag()
