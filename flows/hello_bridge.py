"""The smallest Prefect flow: the port of dags_legacy/hello_bridge.py."""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows.common import RESULTS
from flows.spec import DeploymentSpec
from pipelines.common.workflows import workflow
from pipelines.hello import greet as greet_rule

HELLO_BRIDGE = workflow("hello_bridge")


@task(name=HELLO_BRIDGE.tasks[0], **RESULTS)
def greet(name: str, target: str, sleep_s: float, with_noise: bool) -> dict[str, Any]:
    return greet_rule(name, target, sleep_s, with_noise)


@flow(name=HELLO_BRIDGE.flow_name, **RESULTS)
def hello_bridge(
    name: str = "world", target: str = "public", sleep_s: float = 0, with_noise: bool = False
) -> dict[str, Any]:
    return greet(name, target, sleep_s, with_noise)


DEPLOYMENTS: list[DeploymentSpec] = [
    DeploymentSpec.of(HELLO_BRIDGE.id, __name__, concurrency_limit=None),
]
