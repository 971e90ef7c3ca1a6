# mypy: disable-error-code="untyped-decorator"
"""The zoo's Airflow DAGs (ids zoo_*): shapes of a real Airflow that the bridge's own DAGs lack."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowSkipException

START = pendulum.datetime(2024, 1, 1, tz="UTC")
COMMON: dict[str, Any] = {"schedule": None, "start_date": START, "catchup": False, "tags": ["zoo"]}


@dag(dag_id="zoo_paused", is_paused_upon_creation=True, **COMMON)
def zoo_paused() -> None:
    @task
    def hello() -> str:
        return "ran"

    hello()


@dag(dag_id="zoo_branch", params={"branch": "left"}, **COMMON)
def zoo_branch() -> None:
    @task.branch
    def choose() -> str:
        return "left" if get_current_context()["params"]["branch"] == "left" else "right"

    @task
    def left() -> str:
        return "went left"

    @task
    def right() -> str:
        return "went right"

    @task(trigger_rule="none_failed_min_one_success")
    def join() -> str:
        return "joined"

    branch = choose()
    ends = [left(), right()]
    branch >> ends
    ends >> join()


@dag(
    dag_id="zoo_params",
    params={
        "count": Param(type="integer", minimum=1, description="how many; required"),
        "mode": Param("fast", enum=["fast", "slow"]),
    },
    **COMMON,
)
def zoo_params() -> None:
    @task
    def echo() -> dict[str, Any]:
        params = get_current_context()["params"]
        return {"count": params["count"], "mode": params["mode"]}

    echo()


@dag(dag_id="zoo_mapped", max_active_tasks=16, **COMMON)
def zoo_mapped() -> None:
    @task
    def items() -> list[int]:
        return list(range(120))

    @task
    def double(item: int) -> int:
        if item % 50 == 0:
            raise AirflowSkipException(f"item {item} is skipped on purpose")
        return item * 2

    double.expand(item=items())


@dag(dag_id="zoo_raises", default_args={"retries": 0}, **COMMON)
def zoo_raises() -> None:
    @task
    def boom() -> None:
        raise ValueError("zoo: the answer is not 42")

    boom()


@dag(dag_id="zoo_retries", **COMMON)
def zoo_retries() -> None:
    @task(retries=1, retry_delay=pendulum.duration(seconds=10))
    def flaky() -> str:
        if get_current_context()["ti"].try_number < 2:
            raise RuntimeError("zoo: first try fails")
        return "second try"

    flaky()


@dag(dag_id="zoo_group", **COMMON)
def zoo_group() -> None:
    @task_group(group_id="grp")
    def grp() -> None:
        @task
        def a() -> str:
            return "a"

        @task
        def b() -> str:
            return "b"

        a() >> b()

    @task
    def after() -> str:
        return "after"

    grp() >> after()


@dag(
    dag_id="zoo_minutely",
    schedule="*/1 * * * *",
    start_date=START,
    catchup=False,
    tags=["zoo"],
    is_paused_upon_creation=True,
)
def zoo_minutely() -> None:
    """Every minute, paused until a test resumes it (tests/integration/test_watch.py): the minute its
    scheduler fired it, as zoo-minutely returns the same from its expected start time."""

    @task
    def stamp() -> int:
        end = get_current_context()["data_interval_end"]
        assert end is not None
        utc = end.in_timezone("UTC")
        return int(utc.hour * 60 + utc.minute)  # the minute of the day: not a time normalization masks

    stamp()


for _factory in (
    zoo_paused,
    zoo_branch,
    zoo_params,
    zoo_mapped,
    zoo_raises,
    zoo_retries,
    zoo_group,
    zoo_minutely,
):
    _factory()
