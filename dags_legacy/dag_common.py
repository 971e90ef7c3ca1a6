# mypy: disable-error-code="untyped-decorator"
# (airflow is not installed where mypy runs, so its decorators are untyped there)
"""What the legacy DAGs share: the one shape of a scheduled workflow's DAG (``scheduled_workflow_dag``:
resolve_run >> prepare_target >> its step, everything named and scheduled by the workflow registry
``pipelines.common.workflows``), the ETL DAGs' two steps, and the one shape of the scenario-2
queue-worker DAG (``queue_worker_dag``), per broker; and ``run_target``, where every DAG's run finds the
target it writes to.

Imported as the top-level module ``dag_common``: Airflow puts the dags folder (the bundle path) on
``sys.path`` for the dag-processor and the task runner. ``.airflowignore`` keeps the dag-processor from
parsing this file as a DAG file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

from pipelines.common.business_date import resolve_business_date
from pipelines.common.summary import run_header
from pipelines.common.targets import DEFAULT_TARGET, TARGET_PATTERN, validate_target
from pipelines.common.workflows import Workflow, workflow

#: The Airflow Variable ``bridge_target__<dag_id>`` moves a DAG's default target at run time: the bridge
#: sets it over the REST API (a DAG's param defaults cannot be changed there) to send the scheduled runs
#: elsewhere (the shadow target of a reverse shadow), and deletes it to send them back.
TARGET_VARIABLE_PREFIX = "bridge_target__"

#: How many runs of one queue-worker DAG may be active at once: the bound its dispatcher respects too.
WORKER_MAX_ACTIVE_RUNS = 16

#: ``step(run, prepared, params)`` / ``prepare(run, params)``: the body of a scheduled DAG's last two tasks.
Step = Callable[..., dict[str, Any]]


def scheduled_dag_kwargs(
    wf: Workflow, *, extra_params: Mapping[str, Param] | None = None, doc_md: str | None = None
) -> dict[str, Any]:
    """The ``@dag`` keywords of the registered workflow ``wf``: its schedule with a data interval, one run
    at a time, its tags, owner and description.

    Params: ``target``, ``business_date`` (its help names the schedule's timezone), then ``extra_params``.
    """
    schedule = wf.schedule
    assert schedule is not None, f"{wf.id} is not scheduled"
    return {
        "dag_id": wf.id,
        "description": wf.summary,
        "schedule": CronDataIntervalTimetable(schedule.cron, timezone=pendulum.timezone(schedule.timezone)),
        "start_date": pendulum.datetime(2024, 1, 1, tz=schedule.timezone),
        "catchup": False,
        "max_active_runs": 1,
        "tags": list(wf.tags),
        "default_args": {"owner": wf.owner, "retries": 0},
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
                description=f"YYYY-MM-DD; empty: the data interval start's date ({schedule.timezone}).",
            ),
            **(extra_params or {}),
        },
        "doc_md": doc_md,
    }


def target_variable(dag_id: str) -> str:
    """The name of the Airflow Variable that moves ``dag_id``'s default target."""
    return f"{TARGET_VARIABLE_PREFIX}{dag_id}"


def run_target(context: Mapping[str, Any]) -> str:
    """The target the run of ``context`` writes to, validated: the ``target`` the run's conf names, else
    the Airflow Variable ``bridge_target__<dag_id>`` if it is set (and not empty), else the ``target``
    param's default. A Variable that is not a valid target fails the run: never a silent fallback."""
    from airflow.sdk import Variable

    dag_run = context["dag_run"]
    if (dag_run.conf or {}).get("target") is not None:
        return validate_target(context["params"]["target"])
    moved = Variable.get(target_variable(dag_run.dag_id), default=None)
    if moved is not None and str(moved).strip():
        return validate_target(str(moved).strip())
    return validate_target(context["params"]["target"])


def resolve_run_task(wf: Workflow) -> Any:
    """The ``resolve_run`` task: the run header ``{"workflow", "business_date", "target"}``.

    Target: ``run_target``. Business date: the ``business_date`` param, else the data interval start's date, else (a manual run
    without a logical date) the date the Prefect flow would process for the run's ``run_after``.
    """
    schedule = wf.schedule
    assert schedule is not None, f"{wf.id} is not scheduled"

    @task(task_id=wf.tasks[0], multiple_outputs=False)
    def resolve_run() -> dict[str, Any]:
        context = get_current_context()
        params = context["params"]
        day = resolve_business_date(
            params.get("business_date"),
            schedule,
            interval_start=context.get("data_interval_start"),
            scheduled=context["dag_run"].run_after,
        )
        return run_header(wf.id, day, run_target(context))

    return resolve_run


def scheduled_workflow_dag(
    workflow_id: str,
    prepare: Step,
    step: Step,
    *,
    extra_params: Mapping[str, Param] | None = None,
    doc_md: str | None = None,
) -> Any:
    """The DAG of a scheduled workflow: resolve_run >> prepare_target >> its step, task ids from the
    registry. ``prepare(run, params)`` and ``step(run, prepared, params)`` import what they call (a DAG
    file is parsed every few seconds); the last task's XCom ``return_value`` is the run summary."""
    wf = workflow(workflow_id)
    _, prepare_id, step_id = wf.tasks

    @dag(**scheduled_dag_kwargs(wf, extra_params=extra_params, doc_md=doc_md))
    def scheduled() -> Any:
        @task(task_id=prepare_id, multiple_outputs=False)
        def prepare_target(run: dict[str, Any]) -> dict[str, Any]:
            return prepare(run, get_current_context()["params"])

        @task(task_id=step_id, multiple_outputs=False)
        def run_step(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
            return step(run, prepared, get_current_context()["params"])

        run = resolve_run_task(wf)()
        return run_step(run, prepare_target(run))

    return scheduled()


def prepare_etl(run: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """prepare_target of the ETL DAGs: the workflow's tables and ``etl_state`` in the target."""
    from pipelines.jobs.etl import WORKFLOW_TABLES, prepare_etl_target

    return prepare_etl_target(None, run["target"], WORKFLOW_TABLES[run["workflow"]])


def run_etl(run: dict[str, Any], prepared: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The load task of the ETL DAGs: the workflow's job (``pipelines.jobs.etl.JOBS``)."""
    from pipelines.jobs.etl import JOBS

    return JOBS[run["workflow"]](None, None, prepared["target"], run["business_date"])


def queue_worker_dag(broker: str, doc_md: str | None) -> Any:
    """The scenario-2 worker DAG for ``broker`` (rabbitmq or sqs): resolve_run >> prepare_target >>
    consume >> summarize. Not scheduled; several runs on one target compete for its queue."""
    from pipelines.queues.params import DEFAULTS, PARAM_SPECS

    wf = workflow(f"{broker}_worker")
    resolve_id, prepare_id, consume_id, summarize_id = wf.tasks

    @dag(
        dag_id=wf.id,
        description=wf.summary,
        schedule=None,
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=WORKER_MAX_ACTIVE_RUNS,
        tags=list(wf.tags),
        default_args={"owner": wf.owner, "retries": 0},  # the core retries and reconnects itself
        params={name: Param(DEFAULTS[name], **spec) for name, spec in PARAM_SPECS.items()},
        doc_md=doc_md,
    )
    def worker_dag() -> Any:
        @task(task_id=resolve_id)
        def resolve_run() -> dict[str, Any]:
            from pipelines.jobs.queue_worker import resolve_worker_run
            from pipelines.queues.params import settings_from_params

            context = get_current_context()
            params = context["params"]
            settings_from_params(params)  # refuse bad values before anything is declared
            return resolve_worker_run(broker, run_target(context), params["stream"])

        @task(task_id=prepare_id)
        def prepare_target(run: dict[str, Any]) -> dict[str, Any]:
            from pipelines.jobs.queue_worker import prepare_worker_target

            return prepare_worker_target(run)

        @task(task_id=consume_id)
        def consume(run: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
            from pipelines.jobs.queue_worker import consume as consume_queue
            from pipelines.queues.params import settings_from_params

            settings = settings_from_params(get_current_context()["params"])
            return consume_queue(run, settings, log=logging.getLogger("airflow.task"))

        @task(task_id=summarize_id)
        def summarize(run: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
            from pipelines.jobs.queue_worker import summarize_worker_run

            summary = summarize_worker_run(run, metrics)
            logging.getLogger("airflow.task").info("%s -> %s: %s", run["queue"], run["target"], summary)
            return summary

        run = resolve_run()
        summarize(run, consume(run, prepare_target(run)))

    return worker_dag()
