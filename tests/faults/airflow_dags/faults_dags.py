# mypy: disable-error-code="untyped-decorator"
"""The fault matrix's own DAG (``make faults``): two steps, the second long enough to kill the scheduler
under it, with a retry so that the run can resume once a new scheduler finds the orphaned step."""

from __future__ import annotations

import time

import pendulum
from airflow.sdk import dag, get_current_context, task


@dag(
    dag_id="faults_two_steps",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
)
def faults_two_steps() -> None:
    @task(retries=0)
    def first() -> str:
        return "first done"

    @task(retries=2, retry_delay=pendulum.duration(seconds=2))
    def second(before: str) -> str:
        params = get_current_context()["params"]
        if get_current_context()["ti"].try_number == 1:
            time.sleep(float(params.get("sleep_s", 20)))
        return f"{before}, second done"

    second(first())


faults_two_steps()
