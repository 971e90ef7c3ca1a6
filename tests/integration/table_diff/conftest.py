"""The table-diff tests' databases: two PostgreSQL databases and one MariaDB database per module (random
names, dropped at teardown), and a fresh table name per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.table_diff.helpers import mariadb_database, pg_database, table_name


@pytest.fixture(scope="module")
def pg() -> Iterator[str]:
    with pg_database(["airflow_out", "shadow_prefect"]) as url:
        yield url


@pytest.fixture(scope="module")
def pg2() -> Iterator[str]:
    """A second PostgreSQL database: the shadow side of a cross-database diff."""
    with pg_database(["shadow_prefect"]) as url:
        yield url


@pytest.fixture(scope="module")
def my() -> Iterator[str]:
    with mariadb_database() as url:
        yield url


@pytest.fixture
def name() -> str:
    return table_name()
