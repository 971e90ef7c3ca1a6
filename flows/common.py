"""What the scheduled Prefect flows share: result settings, the ``resolve_run`` task, the scheduled start,
and the one shape of a scheduled flow (``scheduled_tasks`` + ``run_scheduled``).

Business date: Prefect runs at the scheduled time, Airflow at the end of the data interval. With no
explicit ``business_date``, ``resolve_run`` applies Airflow's rule to the flow run's scheduled start
time (``pipelines.common.business_date``), so both sides process the same date for the same fire time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from prefect import Task, get_run_logger, task
from prefect.runtime import flow_run

from pipelines.common.business_date import resolve_business_date
from pipelines.common.summary import run_header
from pipelines.common.targets import validate_target
from pipelines.common.workflows import Workflow, workflow

#: Every task and flow keeps its result, as JSON: the same values the Airflow twin returns over XCom.
RESULTS: dict[str, Any] = {"persist_result": True, "result_serializer": "json"}

Step = Callable[..., dict[str, Any]]


@task(name="resolve_run", **RESULTS)
def resolve_run(
    workflow_id: str, target: str, business_date: str | None, scheduled: datetime
) -> dict[str, Any]:
    """``{"workflow", "business_date", "target"}``: the explicit date, else the one Airflow would process."""
    schedule = workflow(workflow_id).schedule
    assert schedule is not None, f"{workflow_id} is not scheduled"
    day = resolve_business_date(business_date, schedule, scheduled=scheduled)
    return run_header(workflow_id, day, validate_target(target))


def scheduled_start() -> datetime:
    """The current flow run's scheduled start time."""
    scheduled: datetime = flow_run.scheduled_start_time
    return scheduled


def scheduled_tasks(
    wf: Workflow, prepare: Step, work: Step
) -> tuple[Task[..., dict[str, Any]], Task[..., dict[str, Any]]]:
    """The two tasks after ``resolve_run`` of a scheduled workflow, named as the registry (and the DAG)
    names them: ``prepare(run)`` and ``work(run, prepared, *extra)``."""
    _, prepare_name, work_name = wf.tasks
    return task(name=prepare_name, **RESULTS)(prepare), task(name=work_name, **RESULTS)(work)


def run_scheduled(
    wf: Workflow,
    prepare: Task[..., dict[str, Any]],
    work: Task[..., dict[str, Any]],
    target: str,
    business_date: str | None,
    *extra: Any,
) -> dict[str, Any]:
    """resolve_run >> prepare >> work, inside the calling flow; log and return the run summary."""
    run = resolve_run(wf.id, target, business_date, scheduled_start())
    summary = work(run, prepare(run), *extra)
    get_run_logger().info("%s %s -> %s: %s", wf.id, run["business_date"], run["target"], summary)
    return summary
