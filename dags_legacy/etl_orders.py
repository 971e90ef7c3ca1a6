"""Legacy DAG ``etl_orders``: every hour at minute 15 (UTC), the orders changed since the watermark
kept in ``<target>`` (and all their items) merged in from MySQL: the newest version of an order wins.

Orchestration only; the loading lives in ``pipelines.etl`` (read from one snapshot, bulk-loaded into
staging tables, merged, watermark moved, one transaction). Params: ``target`` (schema to write into),
``business_date`` (``YYYY-MM-DD``; default: the data interval start's date). The last task's XCom ``return_value`` (also
the DAG result) is the run summary: rows read/written, watermarks, per-table checksums.

Tasks (same names as the Prefect flow ``etl-orders``): resolve_run >> prepare_target >> load_orders.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task
from dag_common import resolve_run_task, scheduled_dag

from pipelines.etl_schedules import ETL_ORDERS as SCHEDULE

DAG_ID = "etl_orders"


@dag(
    **scheduled_dag(
        DAG_ID,
        SCHEDULE,
        tags=["scenario-3", "etl", "orders"],
        owner="data-team",
        doc_md=__doc__,
    )
)
def etl_orders_dag() -> Any:
    resolve_run = resolve_run_task(DAG_ID, SCHEDULE)

    @task(task_id="prepare_target", multiple_outputs=False)
    def prepare_target(run: dict[str, Any]) -> dict[str, Any]:
        from pipelines.etl import ORDER_TABLES, prepare_etl_target

        return prepare_etl_target(None, run["target"], ORDER_TABLES)

    @task(task_id="load_orders", multiple_outputs=False)
    def load_orders(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
        from pipelines.etl import etl_orders

        return etl_orders(None, None, prepared["target"], run["business_date"])

    run = resolve_run()
    return load_orders(run, prepare_target(run))


dag_object = etl_orders_dag()
