"""Legacy DAG ``process_products``: new or changed products into ``<target>.processed_products``.

Orchestration only; the rules live in ``pipelines.jobs.products``. Hourly schedule (the workflow
registry, ``pipelines.common.workflows``) with a data interval (``CronDataIntervalTimetable``): the run
that fires at the end of an hour processes the business date of the hour's start. Params: ``target``
(schema to write into), ``business_date`` (``YYYY-MM-DD``; default: from the data interval start),
``since`` (ISO datetime; default: the target's watermark). The last task's XCom ``return_value`` (also
the DAG result) is the run summary.

Tasks (same names as the Prefect flow's): resolve_run >> prepare_target >> process_products.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.sdk import Param
from dag_common import scheduled_workflow_dag


def prepare(run: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    from pipelines.jobs.products import prepare_products_target

    return prepare_products_target(None, run["target"])


def process(run: dict[str, Any], prepared: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    from pipelines.jobs.products import process_products

    return process_products(None, None, prepared["target"], params.get("since"), run["business_date"])


SINCE = Param(
    None,
    type=["null", "string"],
    description="ISO datetime lower bound of updated_at; empty: the target's watermark.",
)

dag_object = scheduled_workflow_dag(
    "process_products", prepare, process, extra_params={"since": SINCE}, doc_md=__doc__
)
