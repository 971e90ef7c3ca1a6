"""The smallest legacy DAG: proves the stack runs a DAG and returns a value over XCom."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="hello_bridge",
    description="Smoke test: echoes its conf and returns a summary",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["smoke"],
    default_args={"owner": "bridge"},
    params={"name": "world", "target": "public"},
)
def hello_bridge():
    @task
    def greet(params=None) -> dict:
        name = str(params["name"])
        return {"greeting": f"hello {name}", "target": params["target"], "length": len(name)}

    greet()


hello_bridge()
