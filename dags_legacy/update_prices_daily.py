"""Legacy DAG ``update_prices_daily``: at 06:00 America/Sao_Paulo, the day's prices into ``<target>.price_history``.

Orchestration only; the rules live in ``pipelines.prices``. Schedule ``0 6 * * *`` in America/Sao_Paulo
with a data interval (``CronDataIntervalTimetable``): the run that fires at 06:00 on day D covers 06:00
D-1 to 06:00 D and prices business date D-1. Params: ``target`` (schema to write into),
``business_date`` (``YYYY-MM-DD``; default: the data interval start's date in America/Sao_Paulo).
The last task's XCom ``return_value`` (also the DAG result) is the run summary.

Tasks (same names as the Prefect flow ``update-prices-daily``): resolve_run >> prepare_target >>
update_prices.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

from pipelines.business_date import resolve_business_date
from pipelines.schedules import UPDATE_PRICES_DAILY as SCHEDULE
from pipelines.summary import run_header
from pipelines.targets import DEFAULT_TARGET, TARGET_PATTERN, validate_target

DAG_ID = "update_prices_daily"


@dag(
    dag_id=DAG_ID,
    schedule=CronDataIntervalTimetable(SCHEDULE.cron, timezone=pendulum.timezone(SCHEDULE.timezone)),
    start_date=pendulum.datetime(2024, 1, 1, tz=SCHEDULE.timezone),
    catchup=False,
    max_active_runs=1,
    tags=["scenario-1", "cron", "prices"],
    default_args={"owner": "pricing-team", "retries": 0},
    params={
        "target": Param(DEFAULT_TARGET, type="string", pattern=TARGET_PATTERN,
                        description="Schema the run writes into."),
        "business_date": Param(None, type=["null", "string"], format="date",
                               description="YYYY-MM-DD; empty: the data interval start's date (Sao Paulo)."),
    },
    doc_md=__doc__,
)
def update_prices_daily_dag() -> Any:
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
        from pipelines.prices import prepare_prices_target

        return prepare_prices_target(None, run["target"])

    @task(task_id="update_prices", multiple_outputs=False)
    def update_prices(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
        from pipelines.prices import update_prices as update

        return update(None, None, prepared["target"], run["business_date"])

    run = resolve_run()
    return update_prices(run, prepare_target(run))


dag_object = update_prices_daily_dag()
