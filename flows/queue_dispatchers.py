"""Prefect dispatchers of the queue workers: ``rabbitmq-dispatcher`` and ``sqs-dispatcher``, every minute.

Each run reads the depth of ``<stream>-<target>`` and the consumer runs already there, and starts as many
runs of the consumer deployment (``rabbitmq-worker/rabbitmq_worker``, ``sqs-worker/sqs_worker``) as the
rule in ``pipelines.queues.autoscale`` asks for; none for an empty queue. Running: the consumer
deployment's flow runs that are scheduled, pending or running (whatever their target: the limits below
are per deployment and per pool). Bound: the tightest of ``max_consumers``, the consumer deployment's
concurrency limit and the room its work pool's concurrency limit leaves besides the runs of other
deployments. Tasks: ``plan_consumers`` >> ``start_consumers``; the flow returns
``pipelines.jobs.dispatch.dispatch_summary``, the same shape as the DAG twin's (``dags_legacy/queue_dispatchers.py``).

Not catalogued (see ``pipelines.jobs.dispatch``); deployed paused on the ``scheduler`` pool, one run at a
time (two at once would both see the same depth and start twice as many).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_client, get_run_logger, task
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    WorkPoolFilter,
    WorkPoolFilterName,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment

from flows.common import RESULTS
from flows.spec import DeploymentSpec
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.common.workflows import workflow
from pipelines.jobs.dispatch import (
    DISPATCH_INTERVAL_SECONDS,
    DISPATCHERS,
    consumer_params,
    consumer_workflow,
    decide,
    dispatch_summary,
    queue_depth,
)
from pipelines.queues.autoscale import Plan
from pipelines.queues.names import DEFAULT_STREAM

_WAITING = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]
_HOLDING_A_SLOT = [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]


def _runs(states: list[StateType], **filters: Any) -> int:
    with get_client(sync_client=True) as client:
        return int(
            client.count_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=states))
                ),
                **filters,
            )
        )


def consumers_and_limits(deployment_name: str) -> tuple[int, tuple[int | None, ...]]:
    """(consumer runs scheduled, pending or running; the deployment's and its pool's room)."""
    with get_client(sync_client=True) as client:
        dep = client.read_deployment_by_name(deployment_name)
        pool_limit = None
        if dep.work_pool_name:
            pool_limit = client.read_work_pool(dep.work_pool_name).concurrency_limit
    by_deployment = DeploymentFilter(id=DeploymentFilterId(any_=[dep.id]))
    running = _runs(_WAITING, deployment_filter=by_deployment)
    pool_room = None
    if pool_limit is not None and dep.work_pool_name:
        in_pool = _runs(
            _HOLDING_A_SLOT,
            work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[dep.work_pool_name])),
        )
        mine = _runs(_HOLDING_A_SLOT, deployment_filter=by_deployment)
        pool_room = max(0, pool_limit - (in_pool - mine))
    return running, (dep.concurrency_limit, pool_room)


@task(name="plan_consumers", **RESULTS)
def plan_consumers(broker: str, params: dict[str, Any]) -> dict[str, Any]:
    """The queue's depth, the consumer runs there, the bound, and how many to start."""
    depth = queue_depth(broker, params["target"], params["stream"])
    running, limits = consumers_and_limits(workflow(consumer_workflow(broker)).deployment)
    return decide(params, depth, running, limits).as_dict()


@task(name="start_consumers", **RESULTS)
def start_consumers(broker: str, params: dict[str, Any], count: int) -> list[str]:
    """Start ``count`` consumer runs (not waited for, not subflows); return their flow run ids."""
    name = workflow(consumer_workflow(broker)).deployment
    started = []
    for _ in range(count):
        run = run_deployment(
            name, parameters=consumer_params(params), timeout=0, as_subflow=False, tags=["dispatched"]
        )
        assert isinstance(run, FlowRun)  # run_deployment is sync outside an event loop
        started.append(str(run.id))
    return started


def _dispatch(broker: str, params: dict[str, Any]) -> dict[str, Any]:
    planned = plan_consumers(broker, params)
    started = start_consumers(broker, params, planned["start"]) if planned["start"] else []
    summary = dispatch_summary(broker, params, Plan(**planned), started)
    get_run_logger().info("%s: %s", summary["queue"], {k: v for k, v in summary.items() if k != "started"})
    return summary


@flow(name=DISPATCHERS["rabbitmq"].replace("_", "-"), **RESULTS)
def rabbitmq_dispatcher(
    target: str = DEFAULT_TARGET,
    stream: str = DEFAULT_STREAM,
    per_consumer: int = 20_000,
    max_consumers: int = 4,
    batch_size: int = 500,
    idle_seconds: float = 2.0,
    max_seconds: float | None = 300.0,
) -> dict[str, Any]:
    """Start ``rabbitmq_worker`` runs for the depth of ``<stream>-<target>`` on RabbitMQ."""
    return _dispatch("rabbitmq", dict(locals()))


@flow(name=DISPATCHERS["sqs"].replace("_", "-"), **RESULTS)
def sqs_dispatcher(
    target: str = DEFAULT_TARGET,
    stream: str = DEFAULT_STREAM,
    per_consumer: int = 20_000,
    max_consumers: int = 4,
    batch_size: int = 500,
    idle_seconds: float = 2.0,
    max_seconds: float | None = 300.0,
) -> dict[str, Any]:
    """Start ``sqs_worker`` runs for the depth of ``<stream>-<target>`` on SQS."""
    return _dispatch("sqs", dict(locals()))


DEPLOYMENTS: list[DeploymentSpec] = [
    DeploymentSpec(
        flow_name=name.replace("_", "-"),
        name=name,
        entrypoint=f"{__name__.replace('.', '/')}.py:{name}",
        schedule=None,
        interval_seconds=DISPATCH_INTERVAL_SECONDS,
        work_pool="scheduler",
        concurrency_limit=1,
        tags=("scenario-2", "queue", "dispatcher"),
        description=f"Every minute: starts {consumer_workflow(broker)} runs for the queue's depth.",
    )
    for broker, name in DISPATCHERS.items()
]
