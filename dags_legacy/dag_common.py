"""What the legacy DAGs share: the scheduled ones' ``@dag`` keywords and ``resolve_run`` task, and the one
shape of the scenario-2 queue-worker DAG (``queue_worker_dag``), per broker.

Imported as the top-level module ``dag_common``: Airflow puts the dags folder (the bundle path) on
``sys.path`` for the dag-processor and the task runner. ``.airflowignore`` keeps the dag-processor from
parsing this file as a DAG file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

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
            "target": Param(
                DEFAULT_TARGET,
                type="string",
                pattern=TARGET_PATTERN,
                description="Schema the run writes into.",
            ),
            "business_date": Param(
                None,
                type=["null", "string"],
                format="date",
                description=f"YYYY-MM-DD; empty: the data interval start's date{date_note}.",
            ),
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
        day = resolve_business_date(
            params.get("business_date"),
            schedule,
            interval_start=context.get("data_interval_start"),
            scheduled=context["dag_run"].run_after,
        )
        return run_header(dag_id, day, validate_target(params["target"]))

    return resolve_run


def queue_worker_dag(broker: str, doc_md: str | None) -> Any:
    """The scenario-2 worker DAG for ``broker`` (rabbitmq or sqs): resolve_run >> prepare_target >>
    consume >> summarize. Not scheduled; several runs on one target compete for its queue."""
    from pipelines.queue_params import DEFAULTS, PARAM_SPECS

    @dag(
        dag_id=f"{broker}_worker",
        schedule=None,
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=16,
        tags=["scenario-2", "queue", broker],
        default_args={"owner": "orders-team", "retries": 0},  # the core retries and reconnects itself
        params={name: Param(DEFAULTS[name], **spec) for name, spec in PARAM_SPECS.items()},
        doc_md=doc_md,
    )
    def worker_dag() -> Any:
        @task(task_id="resolve_run")
        def resolve_run() -> dict[str, Any]:
            from pipelines.queue_params import settings_from_params
            from pipelines.queue_worker import resolve_worker_run

            params = get_current_context()["params"]
            settings_from_params(params)  # refuse bad values before anything is declared
            return resolve_worker_run(broker, params["target"], params["stream"])

        @task(task_id="prepare_target")
        def prepare_target(run: dict[str, Any]) -> dict[str, Any]:
            from pipelines.queue_worker import prepare_worker_target

            return prepare_worker_target(run)

        @task(task_id="consume")
        def consume(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
            from pipelines.queue_params import settings_from_params
            from pipelines.queue_worker import consume as consume_queue

            settings = settings_from_params(get_current_context()["params"])
            return consume_queue(run, settings, log=logging.getLogger("airflow.task"))

        @task(task_id="summarize")
        def summarize(run: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
            from pipelines.queue_worker import summarize_worker_run

            summary = summarize_worker_run(run, metrics)
            logging.getLogger("airflow.task").info("%s -> %s: %s", run["queue"], run["target"], summary)
            return summary

        run = resolve_run()
        summarize(run, consume(run, prepare_target(run)))

    return worker_dag()
