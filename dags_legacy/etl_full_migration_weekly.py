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

from airflow.sdk import dag, task
from dag_common import resolve_run_task, scheduled_dag

from pipelines.etl_schedules import FULL_MIGRATION_WEEKLY as SCHEDULE

DAG_ID = "full_migration_weekly"


@dag(
    **scheduled_dag(
        DAG_ID,
        SCHEDULE,
        tags=["scenario-3", "etl", "migration"],
        owner="data-team",
        doc_md=__doc__,
    )
)
def full_migration_weekly_dag() -> Any:
    resolve_run = resolve_run_task(DAG_ID, SCHEDULE)

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
