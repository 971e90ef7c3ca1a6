# mypy: disable-error-code="untyped-decorator"
# (airflow is not installed where mypy runs, so its decorators are untyped there)
"""The smallest legacy DAG: proves the stack runs a DAG and returns a value over XCom.

Params for the bridge's own tests: ``sleep_s`` makes the run last, ``with_noise`` adds a random value
(what noise calibration must learn to ignore); ``target`` is resolved at run time
(``dag_common.run_target``: the conf's, else the Variable ``bridge_target__hello_bridge``, else ``public``).
Id, tags, owner and task id: the workflow registry.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, get_current_context, task
from dag_common import run_target

from pipelines.common.workflows import workflow
from pipelines.hello import greet as greet_rule

HELLO_BRIDGE = workflow("hello_bridge")


@dag(
    dag_id=HELLO_BRIDGE.id,
    description=HELLO_BRIDGE.summary,
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=list(HELLO_BRIDGE.tags),
    default_args={"owner": HELLO_BRIDGE.owner},
    params={"name": "world", "target": "public", "sleep_s": 0, "with_noise": False},
)
def hello_bridge() -> None:
    @task(task_id=HELLO_BRIDGE.tasks[0])
    def greet(params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert params is not None
        target = run_target(get_current_context())
        return greet_rule(str(params["name"]), target, float(params["sleep_s"]), bool(params["with_noise"]))

    greet()


hello_bridge()
