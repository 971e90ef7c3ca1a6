"""Legacy DAG ``rabbitmq_worker``: drain the target's RabbitMQ queue into ``<target>.order_outcomes``.

Orchestration only; the consuming core and the rules live in ``pipelines`` (``queue_worker``,
``queue_core``, ``order_events``). Not scheduled: a run is triggered (by the bridge, a sensor, a person),
and several runs on one target compete for its queue (``max_active_runs`` 16), every outcome still
written once. The queue is ``<stream>-<target>``, bound to the stream's fanout exchange, so a shadow
target gets its own copy of every message. Params: ``pipelines.queue_params``.

Tasks: resolve_run >> prepare_target >> consume >> summarize. The Prefect flow ``rabbitmq-worker`` has
the same tasks except ``consume``: there the loop is in the flow and each batch is one ``consume_batch``
task; here one task runs the whole loop. ``summarize``'s return value (the XCom of the last task) is the
run summary, identical in shape to the flow's result.
"""

from __future__ import annotations

import logging
from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from pipelines.queue_params import DEFAULTS, PARAM_SPECS

BROKER = "rabbitmq"
DAG_ID = "rabbitmq_worker"


@dag(
    dag_id=DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=16,
    tags=["scenario-2", "queue", "rabbitmq"],
    default_args={"owner": "orders-team", "retries": 0},  # the core retries and reconnects itself
    params={name: Param(DEFAULTS[name], **spec) for name, spec in PARAM_SPECS.items()},
    doc_md=__doc__,
)
def rabbitmq_worker_dag() -> Any:
    @task(task_id="resolve_run")
    def resolve_run() -> dict[str, Any]:
        from pipelines.queue_params import settings_from_params
        from pipelines.queue_worker import resolve_worker_run

        params = get_current_context()["params"]
        settings_from_params(params)  # refuse bad values before anything is declared
        return resolve_worker_run(BROKER, params["target"], params["stream"])

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


dag_object = rabbitmq_worker_dag()
