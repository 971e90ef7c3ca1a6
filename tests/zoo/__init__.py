"""A DAG zoo of our own: Airflow DAGs (tests/zoo/dags/) and their Prefect counterparts (flows.py) with the
shapes a real Airflow holds and our own workflows do not: paused at creation, branches that skip, params
with a schema, mapping past the API's 100 page, a task that raises, one that retries, a task group."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DAGS = Path(__file__).resolve().parent / "dags"
DAG_IDS = (
    "zoo_paused",
    "zoo_branch",
    "zoo_params",
    "zoo_mapped",
    "zoo_raises",
    "zoo_retries",
    "zoo_group",
    "zoo_minutely",
)
# The Prefect counterparts: flow name == deployment name, on the test stack's "worker" pool unless said.
DEPLOYMENTS = (
    "zoo-paused",
    "zoo-idle",
    "zoo-params",
    "zoo-raises",
    "zoo-retries",
    "zoo-mapped",
    "zoo-minutely",
)
IDLE_POOL = "zoo-idle"  # a work pool no worker polls
MAPPED = 120  # instances of zoo_mapped's task: past the REST API's 100 page
SKIPPED_INDICES = (0, 50, 100)  # zoo_mapped's indices that skip
FAILURE = "zoo: the answer is not 42"  # what zoo_raises and zoo-raises raise


@dataclass(frozen=True)
class Zoo:
    """The zoo as deployed on a test stack: ``env`` talks to it (a CLI's environment), ``catalog`` is a
    bridge.toml that adds the zoo's workflows (dag id -> deployment) to the repo's own."""

    env: dict[str, str]
    catalog: Path

    def deployment(self, name: str) -> str:
        return f"{name}/{name}"
