"""Legacy DAG ``etl_orders``: the orders changed since the watermark kept in ``<target>`` (and all their
items) merged in from MySQL: the newest version of an order wins. Schedule, tags and task ids: the
workflow registry (``pipelines.common.workflows``).

Orchestration only; the loading lives in ``pipelines.jobs.etl`` (read from one snapshot, bulk-loaded into
staging tables, merged, watermark moved, one transaction). Params: ``target`` (schema to write into),
``business_date`` (``YYYY-MM-DD``; default: the data interval start's date). The last task's XCom
``return_value`` (also the DAG result) is the run summary: rows read/written, watermarks, per-table
checksums.

Tasks (same names as the Prefect flow's): resolve_run >> prepare_target >> load_orders.
"""

from __future__ import annotations

from dag_common import prepare_etl, run_etl, scheduled_workflow_dag

# airflow parses this file; the DAG itself is built by dag_common.scheduled_workflow_dag.
dag_object = scheduled_workflow_dag("etl_orders", prepare_etl, run_etl, doc_md=__doc__)
