"""The smallest Prefect flow: the port of dags_legacy/hello_bridge.py."""

from __future__ import annotations

from prefect import flow, task


@task(name="greet", persist_result=True, result_serializer="json")
def greet(name: str, target: str) -> dict:
    return {"greeting": f"hello {name}", "target": target, "length": len(name)}


@flow(name="hello-bridge", persist_result=True, result_serializer="json")
def hello_bridge(name: str = "world", target: str = "public") -> dict:
    return greet(name, target)
