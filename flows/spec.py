"""What a deployment is made of: one record per flow deployment, declared next to the flow it deploys.

Each module of ``flows/`` that deploys flows lists them in a module-level ``DEPLOYMENTS``;
``flows/deploy.py`` finds them all. ``DeploymentSpec.of`` derives one from the workflow registry
(``pipelines.common.workflows``): names, schedule, tags and description are never written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelines.common.schedules import CronSchedule
from pipelines.common.workflows import workflow


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: which flow, under which name, on which pool and schedule."""

    flow_name: str
    name: str  # the Airflow dag_id of the same workflow
    entrypoint: str  # "<path relative to the source>:<flow function>"
    schedule: CronSchedule | None
    work_pool: str = "scheduler"
    concurrency_limit: int | None = 1  # one run at a time; further runs wait for the slot
    tags: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None
    #: The work pool's job variables for this deployment, e.g. ``{"env": {...}}`` for its runs' environment
    #: (``PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK``: where its results are persisted).
    job_variables: Mapping[str, Any] = field(default_factory=dict)
    #: A fixed interval instead of a cron (the queue dispatchers' every minute); None: ``schedule`` alone.
    interval_seconds: int | None = None

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"

    @classmethod
    def of(cls, workflow_id: str, module: str, **options: Any) -> DeploymentSpec:
        """The deployment of the registered workflow ``workflow_id`` whose flow is the function of that
        name in ``module`` (a dotted module of this repository, e.g. ``__name__``); ``options``: the
        other fields (``work_pool``, ``concurrency_limit``, ``parameters``, ``job_variables``)."""
        wf = workflow(workflow_id)
        return cls(
            flow_name=wf.flow_name,
            name=wf.deployment_name,
            entrypoint=f"{module.replace('.', '/')}.py:{wf.id}",
            schedule=wf.schedule,
            tags=wf.tags,
            description=wf.summary,
            **options,
        )
