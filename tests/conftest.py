"""Shared fixtures. The stack fixture starts real Airflow 3, Prefect 3, workers and moto once per session,
on free ports, in a temporary home and with databases of its own; it never touches a developer's .bridge/."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator

import pytest

from tests.helpers import REPO, database_url, free_port, run_module, wait_for_dags
from tests.zoo import DAG_IDS, Zoo
from tests.zoo import DAGS as ZOO_DAGS
from tests.zoo import DEPLOYMENTS as ZOO_DEPLOYMENTS

# The services a fixture needs (its own and those of the fixtures it uses are both seen: a test's
# fixturenames is the whole closure). Modules that reach a service without a fixture say so in `pytestmark`.
FIXTURE_SERVICES = {
    "stack": ("airflow", "prefect", "sqs"),
    "zoo": ("airflow", "prefect"),
    "data_urls": ("postgres", "mariadb"),
    "warehouse": ("postgres",),
    "source": ("mariadb",),
    "scratch": ("mariadb",),
    "sqs_endpoint": ("sqs",),
    "rabbit": ("rabbitmq",),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test is marked by its folder (tests/unit, tests/integration, tests/e2e, tests/fidelity) and by the services its
    fixtures start or reach (postgres, mariadb, rabbitmq, airflow, prefect, sqs), so a subset runs without
    the whole stack: `pytest -m "unit or postgres and not airflow"`."""
    for item in items:
        for kind in ("unit", "integration", "e2e", "fidelity"):
            if f"{os.sep}tests{os.sep}{kind}{os.sep}" in str(item.fspath):
                item.add_marker(getattr(pytest.mark, kind))
        names = getattr(item, "fixturenames", ())
        services = {service for name in names for service in FIXTURE_SERVICES.get(name, ())}
        callspec = getattr(item, "callspec", None)
        if "lane" in names and callspec is not None:  # the queue lanes run once per broker
            services.add(callspec.params["lane"])
        for service in sorted(services):
            item.add_marker(getattr(pytest.mark, service))


SESSION = secrets.token_hex(4)


@pytest.fixture(scope="session")
def data_urls() -> Iterator[dict[str, str]]:
    """Source (MariaDB) and warehouse (PostgreSQL) databases of this test session, dropped at the end.
    The stack's services get them as BRIDGE_SOURCE_URL / BRIDGE_WAREHOUSE_URL."""
    from pipelines.adapters import db

    urls = {
        "BRIDGE_SOURCE_URL": database_url(db.source_url(), f"bridge_s{SESSION}_src"),
        "BRIDGE_WAREHOUSE_URL": database_url(db.warehouse_url(), f"bridge_s{SESSION}_wh"),
    }
    db.ensure_source_database(urls["BRIDGE_SOURCE_URL"])
    db.ensure_warehouse_database(urls["BRIDGE_WAREHOUSE_URL"])
    try:
        yield urls
    finally:
        db.drop_source_database(urls["BRIDGE_SOURCE_URL"])
        db.drop_warehouse_database(urls["BRIDGE_WAREHOUSE_URL"])


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, data_urls: dict[str, str]) -> Iterator[object]:
    """The whole local stack, started through the library exactly as `bridge dev up` does."""
    from bridge import devstack
    from bridge.devstack import StackSettings

    settings = StackSettings(
        extra_env=tuple(sorted(data_urls.items())),
        home=tmp_path_factory.mktemp("bridge-home"),
        airflow_port=free_port(),
        prefect_port=free_port(),
        sqs_port=free_port(),
        dashboard_port=free_port(),
        db_prefix=f"bridge_s{SESSION}",
        airflow_password=secrets.token_urlsafe(12),
        extra_dag_folders=(ZOO_DAGS,),
    )
    try:
        devstack.up(settings, say=lambda line: print(f"[stack] {line}", file=sys.stderr))
        yield settings
    finally:
        devstack.down(settings, say=lambda line: None)
        devstack.drop_databases(settings)


@pytest.fixture(scope="session")
def stack_env(stack: object) -> dict[str, str]:
    """Environment for a subprocess (a CLI, a deploy script) that talks to the test stack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AIRFLOW__", "BRIDGE_"))}
    env.update(stack.client_env())  # type: ignore[attr-defined]
    env.update(dict(stack.extra_env))  # type: ignore[attr-defined]
    env["BRIDGE_AIRFLOW_PASSWORD"] = stack.airflow_password  # type: ignore[attr-defined]
    env["PREFECT_HOME"] = str(stack.prefect_home)  # type: ignore[attr-defined]
    return env


@pytest.fixture(scope="session")
def deployed(stack: object, stack_env: dict[str, str]) -> dict[str, str]:
    """Every flow of flows/ registered as a deployment on the test stack's Prefect server."""
    run_module("flows.deploy", stack_env)
    return stack_env


@pytest.fixture(scope="session")
def zoo(stack: object, deployed: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Zoo:
    """The zoo on the test stack: its DAGs parsed, its Prefect counterparts deployed, and a bridge.toml
    that maps each zoo DAG to its deployment (stage airflow) besides the repo's own workflows."""
    from bridge.backends.airflow import AirflowBackend

    run_module("tests.zoo.deploy", deployed)
    airflow = AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password)  # type: ignore[attr-defined]
    wait_for_dags(airflow, DAG_IDS)
    catalog = tmp_path_factory.mktemp("zoo") / "bridge.toml"
    entries = "".join(
        f'\n[workflows.{name.replace("-", "_")}]\ndeployment = "{name}/{name}"\nstage = "airflow"\n'
        for name in ZOO_DEPLOYMENTS
    )
    catalog.write_text((REPO / "bridge.toml").read_text() + entries)
    return Zoo({**deployed, "BRIDGE_CONFIG": str(catalog)}, catalog)


@pytest.fixture(scope="session")
def official(stack: object) -> object:
    """The referee: the official apache-airflow-client, authenticated with a token it did not get from us."""
    import airflow_client.client as ac
    import requests

    token = requests.post(
        f"{stack.airflow_url}/auth/token",  # type: ignore[attr-defined]
        json={"username": stack.airflow_user, "password": stack.airflow_password},  # type: ignore[attr-defined]
        timeout=30,
    ).json()["access_token"]
    return ac.ApiClient(ac.Configuration(host=stack.airflow_url, access_token=token))  # type: ignore[attr-defined]
