"""The smallest legacy DAG: proves the stack runs a DAG and returns a value over XCom.

Params for the bridge's own tests: ``sleep_s`` makes the run last, ``with_noise`` adds a random value
(what noise calibration must learn to ignore).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from pipelines.hello import greet as greet_rule


@dag(
    dag_id="hello_bridge",
    description="Smoke test: echoes its conf and returns a summary",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["smoke"],
    default_args={"owner": "bridge"},
    params={"name": "world", "target": "public", "sleep_s": 0, "with_noise": False},
)
def hello_bridge():
    @task
    def greet(params=None) -> dict:
        return greet_rule(
            str(params["name"]), str(params["target"]), float(params["sleep_s"]), bool(params["with_noise"])
        )

    greet()


hello_bridge()
