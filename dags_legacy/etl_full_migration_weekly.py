"""Legacy DAG ``full_migration_weekly``: Sundays at 03:00 America/Sao_Paulo, every source table
(``pipelines.etl_tables.ALL_TABLES``) from MySQL into ``<target>``, one snapshot, swapped in together.

Orchestration only; the loading lives in ``pipelines.etl`` (streamed from the source, bulk-loaded into a
new table each, swapped in, one transaction; the orders watermark reset). Params: ``target`` (schema to
write into), ``business_date`` (``YYYY-MM-DD``; default: the data interval start's date, a Sunday).
The last task's XCom ``return_value`` (also the DAG result) is the run summary: rows read/written,
watermarks, per-table checksums.

Tasks (same names as the Prefect flow ``full-migration-weekly``): resolve_run >> prepare_target >> migrate_all.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

from pipelines.business_date import resolve_business_date
from pipelines.etl_schedules import FULL_MIGRATION_WEEKLY as SCHEDULE
from pipelines.summary import run_header
from pipelines.targets import DEFAULT_TARGET, TARGET_PATTERN, validate_target

DAG_ID = "full_migration_weekly"


@dag(
    dag_id=DAG_ID,
    schedule=CronDataIntervalTimetable(SCHEDULE.cron, timezone=pendulum.timezone(SCHEDULE.timezone)),
    start_date=pendulum.datetime(2024, 1, 1, tz=SCHEDULE.timezone),
    catchup=False,
    max_active_runs=1,
    tags=["scenario-3", "etl", "migration"],
    default_args={"owner": "data-team", "retries": 0},
    params={
        "target": Param(DEFAULT_TARGET, type="string", pattern=TARGET_PATTERN,
                        description="Schema the run writes into."),
        "business_date": Param(None, type=["null", "string"], format="date",
                               description="YYYY-MM-DD; empty: the data interval start's date."),
    },
    doc_md=__doc__,
)
def full_migration_weekly_dag() -> Any:
    @task(task_id="resolve_run", multiple_outputs=False)
    def resolve_run() -> dict[str, Any]:
        context = get_current_context()
        params = context["params"]
        day = resolve_business_date(params.get("business_date"), SCHEDULE,
                                    interval_start=context.get("data_interval_start"),
                                    scheduled=context["dag_run"].run_after)
        return run_header(DAG_ID, day, validate_target(params["target"]))

    @task(task_id="prepare_target", multiple_outputs=False)
    def prepare_target(run: dict[str, Any]) -> dict[str, Any]:
        from pipelines.etl import prepare_etl_target

        return prepare_etl_target(None, run["target"])

    @task(task_id="migrate_all", multiple_outputs=False)
    def migrate_all(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
        from pipelines.etl import full_migration

        return full_migration(None, None, prepared["target"], run["business_date"])

    run = resolve_run()
    return migrate_all(run, prepare_target(run))


dag_object = full_migration_weekly_dag()
