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

from airflow.sdk import dag, task
from dag_common import resolve_run_task, scheduled_dag

from pipelines.schedules import UPDATE_PRICES_DAILY as SCHEDULE

DAG_ID = "update_prices_daily"


@dag(
    **scheduled_dag(
        DAG_ID,
        SCHEDULE,
        tags=["scenario-1", "cron", "prices"],
        owner="pricing-team",
        date_note=" (Sao Paulo)",
        doc_md=__doc__,
    )
)
def update_prices_daily_dag() -> Any:
    resolve_run = resolve_run_task(DAG_ID, SCHEDULE)

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
