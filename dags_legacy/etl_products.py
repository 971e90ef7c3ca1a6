"""Legacy DAG ``etl_products``: every day at 02:00 America/Sao_Paulo, a full refresh of the products
dimension (``categories``, ``products``) from MySQL into ``<target>``.

Orchestration only; the loading lives in ``pipelines.etl`` (streamed from the source, bulk-loaded into a
new table, swapped in, one transaction). Params: ``target`` (schema to write into), ``business_date``
(``YYYY-MM-DD``; default: the data interval start's date). The last task's XCom ``return_value`` (also
the DAG result) is the run summary: rows read/written, watermarks, per-table checksums.

Tasks (same names as the Prefect flow ``etl-products``): resolve_run >> prepare_target >> load_products.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task
from dag_common import resolve_run_task, scheduled_dag

from pipelines.etl_schedules import ETL_PRODUCTS as SCHEDULE

DAG_ID = "etl_products"


@dag(
    **scheduled_dag(
        DAG_ID,
        SCHEDULE,
        tags=["scenario-3", "etl", "products"],
        owner="data-team",
        doc_md=__doc__,
    )
)
def etl_products_dag() -> Any:
    resolve_run = resolve_run_task(DAG_ID, SCHEDULE)

    @task(task_id="prepare_target", multiple_outputs=False)
    def prepare_target(run: dict[str, Any]) -> dict[str, Any]:
        from pipelines.etl import PRODUCT_TABLES, prepare_etl_target

        return prepare_etl_target(None, run["target"], PRODUCT_TABLES)

    @task(task_id="load_products", multiple_outputs=False)
    def load_products(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
        from pipelines.etl import etl_products

        return etl_products(None, None, prepared["target"], run["business_date"])

    run = resolve_run()
    return load_products(run, prepare_target(run))


dag_object = etl_products_dag()
