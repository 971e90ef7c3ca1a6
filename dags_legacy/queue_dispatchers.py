# mypy: disable-error-code="untyped-decorator"
# (airflow is not installed where mypy runs, so its decorators are untyped there)
"""Legacy DAGs ``rabbitmq_dispatcher`` and ``sqs_dispatcher``: every minute, start as many competing runs of
the consumer DAG (``rabbitmq_worker``, ``sqs_worker``) as the depth of ``<stream>-<target>`` needs.

Twin of the Prefect flows in ``flows/queue_dispatchers.py``; the rule is ``pipelines.queues.autoscale``.
Tasks: ``plan_consumers`` (the depth from the broker, the consumer DAG's queued and running runs from
Airflow's own count, inside the task: ``RuntimeTaskInstance.get_dr_count``; bound: the tightest of
``max_consumers`` and the consumer DAG's ``max_active_runs``) >> ``start_consumers`` (a
``TriggerDagRunOperator`` mapped over the runs to start: none for an empty queue, the mapped task is then
skipped). ``plan_consumers``' XCom is the dispatch summary with the run ids it is about to start.

Scheduled runs take their parameters from the Airflow Variable ``bridge_dispatch__<dag_id>`` (a JSON object
of parameters, ``pipelines.jobs.dispatch.settings_variable``) over the params' defaults; a triggered run
with a conf takes the conf. Not catalogued (see ``pipelines.jobs.dispatch``); paused when created, one run
at a time.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, get_current_context, task
from dag_common import WORKER_MAX_ACTIVE_RUNS

from pipelines.jobs.dispatch import DISPATCH_INTERVAL_SECONDS, DISPATCHERS, consumer_workflow
from pipelines.queues.params import DISPATCH_DEFAULTS, DISPATCH_PARAM_SPECS

_ACTIVE = ["queued", "running"]


def dispatcher_dag(broker: str) -> Any:
    consumer = consumer_workflow(broker)

    @dag(
        dag_id=DISPATCHERS[broker],
        description=f"Every minute: starts {consumer} runs for the queue's depth.",
        schedule=pendulum.duration(seconds=DISPATCH_INTERVAL_SECONDS),
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        is_paused_upon_creation=True,
        tags=["scenario-2", "queue", "dispatcher"],
        default_args={"owner": "orders-team", "retries": 0},
        params={name: Param(DISPATCH_DEFAULTS[name], **spec) for name, spec in DISPATCH_PARAM_SPECS.items()},
        doc_md=__doc__,
    )
    def dispatcher() -> Any:
        @task(task_id="plan_consumers")
        def plan_consumers() -> dict[str, Any]:
            from airflow.sdk import Variable

            from pipelines.jobs.dispatch import (
                consumer_params,
                decide,
                dispatch_summary,
                parse_overrides,
                queue_depth,
                settings_variable,
            )

            context = get_current_context()
            params = dict(context["params"])
            if not context["dag_run"].conf:  # a scheduled run: the settings Variable, if set
                params.update(
                    parse_overrides(Variable.get(settings_variable(DISPATCHERS[broker]), default=None))
                )
            depth = queue_depth(broker, params["target"], params["stream"])
            running = context["ti"].get_dr_count(dag_id=consumer, states=_ACTIVE)
            decided = decide(params, depth, running, (WORKER_MAX_ACTIVE_RUNS,))
            run_id = context["dag_run"].run_id
            runs = [f"dispatched__{run_id}__{i}" for i in range(decided.start)]
            summary = dispatch_summary(broker, params, decided, runs)
            summary["runs"] = [{"trigger_run_id": r, "conf": consumer_params(params)} for r in runs]
            return summary

        @task(task_id="runs_to_start")
        def runs_to_start(summary: dict[str, Any]) -> list[dict[str, Any]]:
            return list(summary["runs"])

        TriggerDagRunOperator.partial(
            task_id="start_consumers", trigger_dag_id=consumer, wait_for_completion=False
        ).expand_kwargs(runs_to_start(plan_consumers()))

    return dispatcher()


rabbitmq_dispatcher = dispatcher_dag("rabbitmq")
sqs_dispatcher = dispatcher_dag("sqs")
