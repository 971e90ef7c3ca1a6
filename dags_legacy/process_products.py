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

from airflow.sdk import Param, dag, get_current_context, task
from dag_common import resolve_run_task, scheduled_dag

from pipelines.schedules import PROCESS_PRODUCTS as SCHEDULE

DAG_ID = "process_products"


@dag(
    **scheduled_dag(
        DAG_ID,
        SCHEDULE,
        tags=["scenario-1", "cron", "products"],
        owner="catalog-team",
        date_note=" (UTC)",
        extra_params={
            "since": Param(
                None,
                type=["null", "string"],
                description="ISO datetime lower bound of updated_at; empty: the target's watermark.",
            ),
        },
        doc_md=__doc__,
    )
)
def process_products_dag() -> Any:
    resolve_run = resolve_run_task(DAG_ID, SCHEDULE)

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
