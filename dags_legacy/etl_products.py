"""Legacy DAG ``etl_products``: full refresh of ``categories`` and ``products`` from MySQL into
``<target>``. Schedule, tags and task ids: the workflow registry (``pipelines.common.workflows``).

Orchestration only; the loading lives in ``pipelines.jobs.etl`` (streamed from the source, bulk-loaded
into a new table each, swapped in, one transaction). Params: ``target`` (schema to write into),
``business_date`` (``YYYY-MM-DD``; default: the data interval start's date). The last task's XCom
``return_value`` (also the DAG result) is the run summary: rows read/written, per-table checksums.

Tasks (same names as the Prefect flow's): resolve_run >> prepare_target >> load_products.
"""

from __future__ import annotations

from dag_common import prepare_etl, run_etl, scheduled_workflow_dag

# airflow parses this file; the DAG itself is built by dag_common.scheduled_workflow_dag.
dag_object = scheduled_workflow_dag("etl_products", prepare_etl, run_etl, doc_md=__doc__)
