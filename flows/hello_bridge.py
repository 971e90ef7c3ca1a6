"""The smallest Prefect flow: the port of dags_legacy/hello_bridge.py."""

from __future__ import annotations

from prefect import flow, task

from flows.spec import DeploymentSpec
from pipelines.hello import greet as greet_rule


@task(name="greet", persist_result=True, result_serializer="json")
def greet(name: str, target: str, sleep_s: float, with_noise: bool) -> dict:
    return greet_rule(name, target, sleep_s, with_noise)


@flow(name="hello-bridge", persist_result=True, result_serializer="json")
def hello_bridge(
    name: str = "world", target: str = "public", sleep_s: float = 0, with_noise: bool = False
) -> dict:
    return greet(name, target, sleep_s, with_noise)


DEPLOYMENTS = [
    DeploymentSpec(
        flow_name="hello-bridge",
        name="hello_bridge",
        entrypoint="flows/hello_bridge.py:hello_bridge",
        schedule=None,
        concurrency_limit=None,
        tags=("smoke",),
        description="Smoke test: the port of dags_legacy/hello_bridge.py.",
    ),
]
