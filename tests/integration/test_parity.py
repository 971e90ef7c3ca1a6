"""Schedule parity against the live servers: the shipped schedules agree; a deliberately different one is flagged."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bridge import config, parity
from bridge.config import WorkflowEntry
from bridge.operations import Backends
from tests.helpers import run_prefect_script


@pytest.fixture(scope="module")
def backends(stack, deployed) -> Backends:  # type: ignore[no-untyped-def]
    env = {
        "BRIDGE_AIRFLOW_URL": stack.airflow_url,
        "BRIDGE_PREFECT_URL": stack.prefect_url,
        "BRIDGE_AIRFLOW_PASSWORD": stack.airflow_password,
    }
    return Backends(config.load(env=env), env=env)


def _wait_scheduled(backends: Backends, dag_id: str) -> None:
    import time

    from bridge.errors import UnknownWorkflowError

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            details = backends.get("airflow").client.get(f"/dags/{dag_id}/details")  # type: ignore[attr-defined]
            if details.get("next_dagrun_run_after"):
                return
        except UnknownWorkflowError:
            pass
        except Exception:
            pass
        time.sleep(1)
    raise AssertionError(f"{dag_id} never got a next run in Airflow")


@pytest.mark.parametrize("dag_id", ["process_products", "update_prices_daily"])
def test_shipped_schedules_are_equal(backends: Backends, dag_id: str) -> None:
    _wait_scheduled(backends, dag_id)
    result = parity.check(backends, dag_id, n=6)
    assert result.verdict == "equal", result.explanation
    assert len(result.airflow) == 6 and result.airflow == result.prefect


def test_a_deployment_in_another_timezone_is_flagged(backends: Backends, stack) -> None:  # type: ignore[no-untyped-def]
    """Deploy the prices flow once more with the right cron but in UTC: parity names the timezone."""
    script = (
        "from prefect import Flow\nfrom prefect.schedules import Cron\n"
        "f = Flow.from_source(source='.', entrypoint='flows/cron.py:update_prices_daily')\n"
        "f.deploy(name='update_prices_daily_utc', work_pool_name='scheduler', schedule=Cron('0 6 * * *', "
        "timezone='UTC'), paused=True, build=False, push=False, print_next_steps=False)\n"
    )
    run_prefect_script(stack.prefect_url, script)
    _wait_scheduled(backends, "update_prices_daily")
    catalog = dataclasses.replace(
        backends.catalog,
        workflows={
            **backends.catalog.workflows,
            "update_prices_daily": WorkflowEntry(
                "update_prices_daily", "update-prices-daily/update_prices_daily_utc"
            ),
        },
    )
    skewed = Backends(catalog, env=backends.env)
    result = parity.check(skewed, "update_prices_daily", n=4)
    assert result.verdict == "offset" and result.offset == timedelta(hours=3)  # Sao Paulo is UTC-3
    assert result.explanation.startswith("timezone:") and "UTC-03:00" in result.explanation
