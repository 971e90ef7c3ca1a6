"""Fixtures of the integration tests that share them.

Scenario 3's loader tests: a warehouse database and a seeded source per module, a scratch source and a
fresh target schema per test (random names, dropped at teardown). The queue-worker tests: a moto SQS
server per module, and a ``Lane`` per test (``lane`` on each broker, ``rabbit`` on RabbitMQ only)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from devkit.etl_seed import seed_etl
from pipelines.adapters.rabbitmq import rabbitmq_url
from tests.helpers import moto_server, own_database
from tests.integration.queue_lanes import BROKERS, Lane

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
    with moto_server() as url:
        yield url


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


@pytest.fixture(scope="module")
def lanes(stack, data_urls) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The orchestrated queue tests' broker URLs (RabbitMQ, the stack's SQS), their warehouse, and the
    streams they made (``made``: (broker, stream, targets)), deleted at the end of the module."""
    from pipelines.jobs.queue_worker import broker_admin

    made: list[tuple[str, str, list[str]]] = []
    info = {
        "urls": {"rabbitmq": rabbitmq_url(), "sqs": stack.sqs_url},
        "warehouse": data_urls["BRIDGE_WAREHOUSE_URL"],
        "made": made,
    }
    try:
        yield info
    finally:
        for broker, stream, targets in made:
            broker_admin(broker).delete_stream(stream, targets, info["urls"][broker])
