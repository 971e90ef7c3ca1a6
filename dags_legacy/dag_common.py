"""What the scheduled legacy DAGs share: their ``@dag`` keywords and their ``resolve_run`` task.

Imported as the top-level module ``dag_common``: Airflow puts the dags folder (the bundle path) on
``sys.path`` for the dag-processor and the task runner. ``.airflowignore`` keeps the dag-processor from
parsing this file as a DAG file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, get_current_context, task

from pipelines.business_date import resolve_business_date
from pipelines.schedules import CronSchedule
from pipelines.summary import run_header
from pipelines.targets import DEFAULT_TARGET, TARGET_PATTERN, validate_target


def scheduled_dag(
    dag_id: str,
    schedule: CronSchedule,
    *,
    tags: Sequence[str],
    owner: str,
    date_note: str = "",
    extra_params: Mapping[str, Param] | None = None,
    doc_md: str | None = None,
) -> dict[str, Any]:
    """The ``@dag`` keywords of a DAG on ``schedule`` with a data interval, one run at a time.

    Params: ``target``, ``business_date`` (its help ends with ``date_note``, e.g. ``" (UTC)"``), then
    ``extra_params``.
    """
    return {
        "dag_id": dag_id,
        "schedule": CronDataIntervalTimetable(schedule.cron, timezone=pendulum.timezone(schedule.timezone)),
        "start_date": pendulum.datetime(2024, 1, 1, tz=schedule.timezone),
        "catchup": False,
        "max_active_runs": 1,
        "tags": list(tags),
        "default_args": {"owner": owner, "retries": 0},
        "params": {
            "target": Param(DEFAULT_TARGET, type="string", pattern=TARGET_PATTERN,
                            description="Schema the run writes into."),
            "business_date": Param(None, type=["null", "string"], format="date",
                                   description=f"YYYY-MM-DD; empty: the data interval start's date{date_note}."),
            **(extra_params or {}),
        },
        "doc_md": doc_md,
    }


def resolve_run_task(dag_id: str, schedule: CronSchedule) -> Any:
    """The ``resolve_run`` task: the run header ``{"workflow", "business_date", "target"}``.

    Business date: the ``business_date`` param, else the data interval start's date, else (a manual run
    without a logical date) the date the Prefect flow would process for the run's ``run_after``.
    """

    @task(task_id="resolve_run", multiple_outputs=False)
    def resolve_run() -> dict[str, Any]:
        context = get_current_context()
        params = context["params"]
        day = resolve_business_date(params.get("business_date"), schedule,
                                    interval_start=context.get("data_interval_start"),
                                    scheduled=context["dag_run"].run_after)
        return run_header(dag_id, day, validate_target(params["target"]))

    return resolve_run
