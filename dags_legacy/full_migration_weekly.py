"""Legacy DAG ``full_migration_weekly``: every source table (the registry's ``tables`` of this workflow)
from MySQL into ``<target>``, one snapshot, swapped in together. Schedule, tags and task ids: the
workflow registry (``pipelines.common.workflows``).

Orchestration only; the loading lives in ``pipelines.jobs.etl`` (streamed from the source, bulk-loaded
into a new table each, swapped in, one transaction; the orders watermark reset). Params: ``target``
(schema to write into), ``business_date`` (``YYYY-MM-DD``; default: the data interval start's date, a
Sunday). The last task's XCom ``return_value`` (also the DAG result) is the run summary: rows
read/written, watermarks, per-table checksums.

Tasks (same names as the Prefect flow's): resolve_run >> prepare_target >> migrate_all.
"""

from __future__ import annotations

from dag_common import prepare_etl, run_etl, scheduled_workflow_dag

# airflow parses this file; the DAG itself is built by dag_common.scheduled_workflow_dag.
dag_object = scheduled_workflow_dag("full_migration_weekly", prepare_etl, run_etl, doc_md=__doc__)
