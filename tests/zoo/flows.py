"""The zoo's Prefect counterparts (flow name == deployment name), deployed by ``python -m tests.zoo.deploy``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from prefect import flow, task

from flows.common import RESULTS
from flows.spec import DeploymentSpec


@task(**RESULTS)
def hello() -> str:
    return "ran"


@flow(name="zoo-paused", **RESULTS)
def zoo_paused() -> str:
    return hello()


@flow(name="zoo-idle", **RESULTS)
def zoo_idle() -> str:
    return hello()


@task(**RESULTS)
def echo(count: int, mode: str) -> dict[str, Any]:
    return {"count": count, "mode": mode}


@flow(name="zoo-params", **RESULTS)
def zoo_params(count: int, mode: Literal["fast", "slow"] = "fast") -> dict[str, Any]:
    return echo(count, mode)


@task(**RESULTS)
def boom() -> None:
    raise ValueError("zoo: the answer is not 42")


@flow(name="zoo-raises", **RESULTS)
def zoo_raises() -> None:
    boom()


_TRIES: dict[str, int] = {}


@task(retries=1, retry_delay_seconds=2, **RESULTS)
def flaky(key: str) -> str:
    _TRIES[key] = _TRIES.get(key, 0) + 1  # one flow run is one process: its tries share this
    if _TRIES[key] < 2:
        raise RuntimeError("zoo: first try fails")
    return "second try"


@flow(name="zoo-retries", **RESULTS)
def zoo_retries() -> str:
    return flaky("flaky")


@task(**RESULTS)
def double(item: int) -> int:
    return item * 2


@flow(name="zoo-mapped", **RESULTS)
def zoo_mapped() -> list[int]:
    return [f.result() for f in double.map(list(range(120)))]


@task(name="stamp", **RESULTS)
def stamp(when: datetime) -> int:
    utc = when.astimezone(UTC)
    return utc.hour * 60 + utc.minute  # the minute of the day, as zoo_minutely's stamp


@flow(name="zoo-minutely", **RESULTS)
def zoo_minutely() -> int:
    from prefect.runtime import flow_run

    return stamp(flow_run.scheduled_start_time)


@dataclass(frozen=True)
class EveryMinute:
    """A schedule the workloads' CronSchedule cannot say (every minute): what flows.deploy reads of one."""

    cron: str = "*/1 * * * *"
    timezone: str = "UTC"


def _spec(name: str, pool: str = "worker") -> DeploymentSpec:
    return DeploymentSpec(
        flow_name=name,
        name=name,
        entrypoint=f"tests/zoo/flows.py:{name.replace('-', '_')}",
        schedule=None,
        work_pool=pool,
        concurrency_limit=None,
        tags=("zoo",),
    )


DEPLOYMENTS = [
    _spec(name) for name in ("zoo-paused", "zoo-params", "zoo-raises", "zoo-retries", "zoo-mapped")
]
IDLE = _spec("zoo-idle", pool="zoo-idle")
#: Every minute, registered paused: only tests/integration/test_watch.py resumes it (and pauses it again).
MINUTELY = replace(_spec("zoo-minutely"), schedule=EveryMinute())  # type: ignore[arg-type]
