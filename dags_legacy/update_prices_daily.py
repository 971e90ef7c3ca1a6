"""Legacy DAG ``update_prices_daily``: the day's prices into ``<target>.price_history``.

Orchestration only; the rules live in ``pipelines.jobs.prices``. Daily schedule (the workflow registry,
``pipelines.common.workflows``) with a data interval (``CronDataIntervalTimetable``): the run that fires
on day D covers the day before and prices business date D-1. Params: ``target`` (schema to write into),
``business_date`` (``YYYY-MM-DD``; default: the data interval start's date in the schedule's timezone).
The last task's XCom ``return_value`` (also the DAG result) is the run summary.

Tasks (same names as the Prefect flow's): resolve_run >> prepare_target >> update_prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dag_common import scheduled_workflow_dag


def prepare(run: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    from pipelines.jobs.prices import prepare_prices_target

    return prepare_prices_target(None, run["target"])


def update(run: dict[str, Any], prepared: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    from pipelines.jobs.prices import update_prices

    return update_prices(None, None, prepared["target"], run["business_date"])


# airflow parses this file; the DAG itself is built by dag_common.scheduled_workflow_dag.
dag_object = scheduled_workflow_dag("update_prices_daily", prepare, update, doc_md=__doc__)
