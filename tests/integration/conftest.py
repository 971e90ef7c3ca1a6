"""Fixtures of the integration tests that share them.

Scenario 3's loader tests: a warehouse database and a seeded source per module, a scratch source and a
fresh target schema per test (random names, dropped at teardown). The queue-worker tests: a moto SQS
server per module, and a ``Lane`` per test (``lane`` on each broker, ``rabbit`` on RabbitMQ only)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from collections.abc import Iterator

import pytest
import requests

from devkit.etl_seed import seed_etl
from pipelines.adapters.rabbitmq import rabbitmq_url
from tests.helpers import free_port, own_database, wait_for
from tests.integration.queue_lanes import BROKERS, REPO, Lane

TOKEN = secrets.token_hex(4)


@pytest.fixture(scope="module")
def warehouse() -> Iterator[str]:
    with own_database("warehouse", f"bridge_t{TOKEN}{secrets.token_hex(2)}_etlwh") as url:
        yield url


@pytest.fixture(scope="module")
def source() -> Iterator[str]:
    """1500 products and orders, seed 3: the shared, read-only source."""
    with own_database("source", f"bridge_t{TOKEN}{secrets.token_hex(2)}_etlsrc", create=False) as url:
        seed_etl(url, 1500, 3)
        yield url


@pytest.fixture
def scratch() -> Iterator[str]:
    """A source a test may change."""
    with own_database("source", f"bridge_t{TOKEN}_{secrets.token_hex(3)}", create=False) as url:
        yield url


@pytest.fixture
def target() -> str:
    return f"etl_{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def sqs_endpoint() -> Iterator[str]:
    """A moto server of this module's own, on a free port, stopped at the end."""
    port = free_port()
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{url}/moto-api/", timeout=2).status_code < 500
        except requests.RequestException:
            return False

    try:
        wait_for(up, 30, "the moto server", interval=0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


@pytest.fixture(params=BROKERS)
def lane(request: pytest.FixtureRequest, data_urls: dict[str, str]) -> Iterator[Lane]:
    broker = request.param
    url = rabbitmq_url() if broker == "rabbitmq" else request.getfixturevalue("sqs_endpoint")
    lane = Lane(broker, data_urls["BRIDGE_WAREHOUSE_URL"], url)
    try:
        yield lane
    finally:
        lane.cleanup()


@pytest.fixture
def rabbit(data_urls: dict[str, str]) -> Iterator[Lane]:
    lane = Lane("rabbitmq", data_urls["BRIDGE_WAREHOUSE_URL"], rabbitmq_url())
    try:
        yield lane
    finally:
        lane.cleanup()
