"""bridge.compare.tables against the real PostgreSQL and MariaDB: equal tables and exact differences, PG vs
PG (two databases) and PG vs MariaDB, canonical text and float rounding across engines.

This module gets databases of its own (tests/integration/table_diff/conftest.py); each test its own
tables.
"""

from __future__ import annotations

import hashlib

import pytest

from bridge.compare.model import TableSide
from bridge.compare.tables import diff_tables, table_checksum
from pipelines.adapters import db
from tests.integration.table_diff.helpers import (
    insert_sql,
    keys,
    make_my,
    make_pg,
    mutate,
    my_run,
    pg_run,
    price_rows,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.mariadb]


# -- equal tables ---------------------------------------------------------------------------------


def test_equal_tables_pg_vs_pg_across_databases(pg: str, pg2: str, name: str) -> None:
    rows = price_rows()
    make_pg(pg, f"airflow_out.{name}", rows)
    make_pg(pg2, f"shadow_prefect.{name}", rows)
    diff = diff_tables(
        TableSide(pg, "airflow_out", name),
        TableSide(pg2, "shadow_prefect", name),
        ["product_id", "business_date"],
    )
    assert diff.equal, diff
    assert (diff.airflow_rows, diff.prefect_rows) == (300, 300)
    assert diff.key == ("product_id", "business_date") and diff.table == name
    assert 0 < diff.queries <= 8 and diff.seconds > 0


def test_equal_tables_pg_vs_mariadb_despite_types(pg: str, my: str, name: str) -> None:
    """NUMERIC(12,2) 1.50 = DECIMAL(14,4) 1.5000; double 0.3 = DECIMAL 0.300; bool = TINYINT(1);
    TIMESTAMPTZ = MariaDB TIMESTAMP in UTC; unicode, '' and NULL kept apart — all equal."""
    rows = price_rows()
    make_pg(pg, f"airflow_out.{name}", rows)
    make_my(my, name, rows)
    airflow, prefect = (
        TableSide(pg, "airflow_out", name),
        TableSide(my, db.DatabaseUrl.parse(my).database, name),
    )
    diff = diff_tables(airflow, prefect, ["product_id", "business_date"])
    assert diff.equal, diff
    assert (diff.airflow_rows, diff.prefect_rows) == (300, 300)
    # Same rows, same canonical text: the one-table checksums agree across engines too (ratio is a
    # double on one side and a decimal on the other, so leave it out here).
    cols = ["sku", "name", "price", "active", "updated_at", "loaded_at"]
    assert table_checksum(airflow, ["product_id", "business_date"], cols) == table_checksum(
        prefect, ["product_id", "business_date"], cols
    )


# -- differences ----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["pg", "mariadb"])
def test_differences_are_found_exactly(pg: str, pg2: str, my: str, name: str, engine: str) -> None:
    rows = price_rows()
    changed_rows, expected = mutate(rows)
    make_pg(pg, f"airflow_out.{name}", rows)
    if engine == "pg":
        make_pg(pg2, f"shadow_prefect.{name}", changed_rows)
        prefect = TableSide(pg2, "shadow_prefect", name)
    else:
        make_my(my, name, changed_rows)
        prefect = TableSide(my, db.DatabaseUrl.parse(my).database, name)
    diff = diff_tables(TableSide(pg, "airflow_out", name), prefect, ["product_id", "business_date"])
    assert not diff.equal
    assert keys(diff.only_airflow) == [expected["gone"]] and diff.only_airflow_count == 1
    assert keys(diff.only_prefect) == [expected["new"]] and diff.only_prefect_count == 1
    found = {tuple(c.key): c.columns for c in diff.changed}
    assert found == {k: (col,) for k, col in expected["changed"].items()}
    assert diff.changed_count == len(expected["changed"])
    assert (diff.airflow_rows, diff.prefect_rows) == (300, 300)


def test_null_versus_empty_string_and_separators_are_told_apart(pg: str, my: str, name: str) -> None:
    ddl_pg = f"CREATE TABLE airflow_out.{name} (id INT PRIMARY KEY, a TEXT, b TEXT)"
    ddl_my = f"CREATE TABLE {name} (id INT PRIMARY KEY, a TEXT, b TEXT) CHARACTER SET utf8mb4"
    pg_run(
        pg,
        [ddl_pg],
        [(1, None, "x"), (2, "a|b", "c"), (3, "", "~"), (4, "1:", "")],
        insert_sql(f"airflow_out.{name}", 3),
    )
    my_run(
        my, [ddl_my], [(1, "", "x"), (2, "a", "b|c"), (3, None, "~"), (4, "1:", None)], insert_sql(name, 3)
    )
    diff = diff_tables(
        TableSide(pg, "airflow_out", name), TableSide(my, db.DatabaseUrl.parse(my).database, name), ["id"]
    )
    assert {c.key: c.columns for c in diff.changed} == {
        (1,): ("a",),
        (2,): ("a", "b"),
        (3,): ("a",),
        (4,): ("b",),
    }


def test_row_hash_is_the_documented_canonical_text(pg: str, my: str, name: str) -> None:
    """md5 of ``<key>|<len>:<text>|~|<decimal without trailing zeros>`` as a signed 64-bit integer."""
    text = "7|6:Crème☕|~|1.5|2024-05-01 12:00:00.25"  # 6 characters, 9 bytes
    expected = int.from_bytes(hashlib.md5(text.encode()).digest()[:8], "big", signed=True)
    pg_run(
        pg,
        [
            f"CREATE TABLE airflow_out.{name} (id INT PRIMARY KEY, s TEXT, n TEXT, p NUMERIC(9,3), ts TIMESTAMP)",
            f"INSERT INTO airflow_out.{name} VALUES (7, 'Crème☕', NULL, 1.500, '2024-05-01 12:00:00.25')",
        ],
    )
    my_run(
        my,
        [
            f"CREATE TABLE {name} (id INT PRIMARY KEY, s TEXT, n TEXT, p DECIMAL(9,3), ts DATETIME(6))"
            " CHARACTER SET utf8mb4",
            f"INSERT INTO {name} VALUES (7, 'Crème☕', NULL, 1.500, '2024-05-01 12:00:00.25')",
        ],
    )
    cols = ["s", "n", "p", "ts"]
    assert table_checksum(TableSide(pg, "airflow_out", name), ["id"], cols) == (1, expected)
    assert table_checksum(TableSide(my, db.DatabaseUrl.parse(my).database, name), ["id"], cols) == (
        1,
        expected,
    )


def test_floats_compare_at_six_decimals_across_engines(pg: str, my: str, name: str) -> None:
    values = [1234.5678, 0.1, -2.5, 1e-7, -1e-7, 1e15, 0.0, None]
    rows = [(i, v, v, None if v is None else round(v, 6)) for i, v in enumerate(values)]
    pg_run(
        pg,
        [
            f"CREATE TABLE airflow_out.{name} (id INT PRIMARY KEY, r REAL, d DOUBLE PRECISION, n NUMERIC(30, 6))"
        ],
        rows,
        insert_sql(f"airflow_out.{name}", 4),
    )
    my_run(
        my,
        [f"CREATE TABLE {name} (id INT PRIMARY KEY, r FLOAT, d DOUBLE, n DOUBLE)"],
        rows,
        insert_sql(name, 4),
    )
    airflow = TableSide(pg, "airflow_out", name)
    prefect = TableSide(my, db.DatabaseUrl.parse(my).database, name)
    assert diff_tables(airflow, prefect, ["id"]).equal
    my_run(my, [f"UPDATE {name} SET d = d + 0.00001 WHERE id = 0"])
    assert [(c.key, c.columns) for c in diff_tables(airflow, prefect, ["id"]).changed] == [((0,), ("d",))]
