"""The workflow registry: one small spec per workflow, the only place its wiring facts are written.

A workflow is known by one name, its Airflow ``dag_id`` (``Workflow.id``). The DAGs in ``dags_legacy/``,
the flows in ``flows/`` and their deployments, the demo and the catalog check (``bridge.toml``, by a unit
test) read the schedule, tags, task names, tables and description from here; Prefect's names are derived:
the flow is the id with ``_`` -> ``-`` (Prefect's convention for flow names), the deployment is the id
(``flows/spec.py``), so ``bridge.toml`` names each one ``<flow name>/<id>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.common.schedules import CronSchedule, WeeklySchedule

__all__ = ["WORKFLOWS", "Workflow", "workflow"]

_WEEKDAYS = ("Sundays", "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays")


@dataclass(frozen=True)
class Workflow:
    """One workflow: what both orchestrations declare for it.

    ``tasks``: the task names, in run order, the same on both sides (a flow may split one of them, see
    ``flow_tasks``). ``tables``: the warehouse tables it writes into its target. ``description``: what it
    does, without its schedule (``summary`` adds the schedule's text). ``owner``: the DAG's owner.
    """

    id: str
    schedule: CronSchedule | None
    tags: tuple[str, ...]
    tasks: tuple[str, ...]
    tables: tuple[str, ...]
    description: str
    owner: str
    flow_tasks: tuple[str, ...] = ()  # the flow's task names where they differ from ``tasks``

    @property
    def flow_name(self) -> str:
        """The Prefect flow's name: the id, dashed."""
        return self.id.replace("_", "-")

    @property
    def deployment_name(self) -> str:
        """The Prefect deployment's name: the id (``flows.spec.DeploymentSpec``)."""
        return self.id

    @property
    def deployment(self) -> str:
        """``<flow name>/<deployment name>``, as ``bridge.toml`` and Prefect's API name it."""
        return f"{self.flow_name}/{self.deployment_name}"

    @property
    def prefect_tasks(self) -> tuple[str, ...]:
        return self.flow_tasks or self.tasks

    @property
    def schedule_text(self) -> str:
        """The schedule in words (``"daily at 06:00 America/Sao_Paulo"``), or ``"triggered"``."""
        return describe_schedule(self.schedule)

    @property
    def summary(self) -> str:
        """``"<Schedule text>: <description>"``: the one-line description both orchestrators show."""
        if self.schedule is None:
            return self.description
        text = self.schedule_text
        return f"{text[0].upper()}{text[1:]}: {self.description}"


def describe_schedule(schedule: CronSchedule | None) -> str:
    """A schedule in words, derived from its fields (never written twice)."""
    if schedule is None:
        return "triggered"
    if schedule.hour is None:
        return f"hourly at :{schedule.minute:02d} {schedule.timezone}"
    clock = f"{schedule.hour:02d}:{schedule.minute:02d} {schedule.timezone}"
    if isinstance(schedule, WeeklySchedule):
        return f"{_WEEKDAYS[schedule.weekday]} at {clock}"
    return f"daily at {clock}"


_SCHEDULED = ("resolve_run", "prepare_target")
_WORKER = ("resolve_run", "prepare_target", "consume", "summarize")
_WORKER_FLOW = ("resolve_run", "prepare_target", "consume_batch", "summarize")

WORKFLOWS: dict[str, Workflow] = {
    w.id: w
    for w in (
        Workflow(
            id="hello_bridge",
            schedule=None,
            tags=("smoke",),
            tasks=("greet",),
            tables=(),
            description="Smoke test: echoes its conf and returns a summary.",
            owner="bridge",
        ),
        Workflow(
            id="process_products",
            schedule=CronSchedule(minute=0, hour=None, timezone="UTC"),
            tags=("scenario-1", "cron", "products"),
            tasks=(*_SCHEDULED, "process_products"),
            tables=("processed_products",),
            description="new or changed products into <target>.processed_products.",
            owner="catalog-team",
        ),
        Workflow(
            id="update_prices_daily",
            schedule=CronSchedule(minute=0, hour=6, timezone="America/Sao_Paulo"),
            tags=("scenario-1", "cron", "prices"),
            tasks=(*_SCHEDULED, "update_prices"),
            tables=("price_history",),
            description="the day's prices into <target>.price_history.",
            owner="pricing-team",
        ),
        Workflow(
            id="etl_products",
            # before the price update of the same morning
            schedule=CronSchedule(minute=0, hour=2, timezone="America/Sao_Paulo"),
            tags=("scenario-3", "etl", "products"),
            tasks=(*_SCHEDULED, "load_products"),
            tables=("categories", "products"),
            description="full refresh of the products dimension into <target>.",
            owner="data-team",
        ),
        Workflow(
            id="etl_orders",
            schedule=CronSchedule(minute=15, hour=None, timezone="UTC"),
            tags=("scenario-3", "etl", "orders"),
            tasks=(*_SCHEDULED, "load_orders"),
            tables=("orders", "order_items"),
            description="changed orders and their items merged into <target> (watermark there).",
            owner="data-team",
        ),
        Workflow(
            id="full_migration_weekly",
            schedule=WeeklySchedule(minute=0, hour=3, timezone="America/Sao_Paulo", weekday=0),
            tags=("scenario-3", "etl", "migration"),
            tasks=(*_SCHEDULED, "migrate_all"),
            tables=("categories", "products", "promotions", "orders", "order_items"),
            description="every source table into <target>, swapped in together.",
            owner="data-team",
        ),
        Workflow(
            id="rabbitmq_worker",
            schedule=None,
            tags=("scenario-2", "queue", "rabbitmq"),
            tasks=_WORKER,
            tables=("order_outcomes",),
            description="Drain <stream>-<target> on RabbitMQ into <target>.order_outcomes.",
            owner="orders-team",
            flow_tasks=_WORKER_FLOW,
        ),
        Workflow(
            id="sqs_worker",
            schedule=None,
            tags=("scenario-2", "queue", "sqs"),
            tasks=_WORKER,
            tables=("order_outcomes",),
            description="Drain <stream>-<target> on SQS into <target>.order_outcomes.",
            owner="orders-team",
            flow_tasks=_WORKER_FLOW,
        ),
    )
}


def workflow(workflow_id: str) -> Workflow:
    """The registered workflow ``workflow_id``; ``KeyError`` naming the known ones otherwise."""
    try:
        return WORKFLOWS[workflow_id]
    except KeyError:
        raise KeyError(f"unknown workflow {workflow_id!r}; known: {', '.join(sorted(WORKFLOWS))}") from None
