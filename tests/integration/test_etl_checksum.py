"""Checksums in the stream: an ETL run's per-table checksum, computed by the loader as the rows pass (a swap)
or from the previous checksum and the rows a merge deleted and inserted, is the checksum the table diff
(``bridge.compare.table_checksum``, one full scan inside the database) computes over the loaded table, on
the real MariaDB source and PostgreSQL warehouse."""

from __future__ import annotations

import pytest
from psycopg import sql

from bridge.compare.model import TableSide
from bridge.compare.tables import table_checksum
from devkit.etl_seed import late_order_updates, seed_etl
from pipelines.adapters import db
from pipelines.adapters.mysql_extract import ExtractConfig
from pipelines.etl.tables import ALL_TABLES, BY_NAME, ORDER_ITEMS, ORDERS
from pipelines.jobs.etl import etl_orders, full_migration_weekly
from tablesum import TableChecksum
from tests.integration.etl_helpers import DAY, READERS

pytestmark = pytest.mark.integration


def _diffs_checksum(url: str, schema: str, table: str) -> TableChecksum:
    return table_checksum(TableSide(url, schema, table), list(BY_NAME[table].key))


def _assert_summary_is_the_diffs(summary: dict[str, object], warehouse: str, target: str) -> None:
    checksums = summary["checksums"]
    assert isinstance(checksums, dict) and checksums
    for name, text in checksums.items():
        stated = TableChecksum.parse(text)
        assert stated is not None, text
        assert stated == _diffs_checksum(warehouse, target, name), name
        assert stated.rows == summary["rows_total"][name]  # type: ignore[index]


@pytest.mark.parametrize("reader", READERS)
def test_a_full_load_reports_the_checksum_the_diff_computes(
    source: str, warehouse: str, target: str, reader: str
) -> None:
    summary = full_migration_weekly(source, warehouse, target, DAY, extract=ExtractConfig(reader, 64 * 1024))
    _assert_summary_is_the_diffs(summary, warehouse, target)
    # one definition across engines too: the source tables hash the same (MySQL renders the same elements)
    database = db.DatabaseUrl.parse(source).database
    for table in ALL_TABLES:
        assert _diffs_checksum(source, database, table.name) == TableChecksum.parse(
            summary["checksums"][table.name]
        ), table.name


def test_merges_keep_the_checksum_without_reading_the_table(
    scratch: str, warehouse: str, target: str
) -> None:
    seed_etl(scratch, 400, 5)
    first = etl_orders(scratch, warehouse, target, DAY)
    _assert_summary_is_the_diffs(first, warehouse, target)
    late_order_updates(scratch, updated=40, inserted=9, seed=5)  # changed orders, removed and new items
    second = etl_orders(scratch, warehouse, target, DAY)
    assert second["checksums"] != first["checksums"]
    _assert_summary_is_the_diffs(second, warehouse, target)
    reference = full_migration_weekly(
        scratch, warehouse, f"{target}_ref", DAY
    )  # a swap: hashed in the stream
    assert {t: reference["checksums"][t] for t in (ORDERS.name, ORDER_ITEMS.name)} == second["checksums"]
    late_order_updates(scratch, updated=10, inserted=3, seed=6)
    _assert_summary_is_the_diffs(etl_orders(scratch, warehouse, target, DAY), warehouse, target)


def test_a_checksum_of_an_older_loader_is_recomputed_once(scratch: str, warehouse: str, target: str) -> None:
    seed_etl(scratch, 150, 8)
    etl_orders(scratch, warehouse, target, DAY)
    with db.warehouse_connection(warehouse) as conn:  # as an older loader left it: a sha256, not count:sum
        conn.execute(
            sql.SQL("UPDATE {} SET checksum = repeat('ab', 32)").format(sql.Identifier(target, "etl_state"))
        )
        conn.commit()
    late_order_updates(scratch, updated=5, inserted=2, seed=8)
    _assert_summary_is_the_diffs(etl_orders(scratch, warehouse, target, DAY), warehouse, target)
