"""The smallest Prefect flow: the port of dags_legacy/hello_bridge.py."""

from __future__ import annotations

from prefect import flow, task

from flows.spec import DeploymentSpec


@task(name="greet", persist_result=True, result_serializer="json")
def greet(name: str, target: str) -> dict:
    return {"greeting": f"hello {name}", "target": target, "length": len(name)}


@flow(name="hello-bridge", persist_result=True, result_serializer="json")
def hello_bridge(name: str = "world", target: str = "public") -> dict:
    return greet(name, target)


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
