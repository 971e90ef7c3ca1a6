"""bridge.compare.tables against the real PostgreSQL and MariaDB: which columns count, the sample, bisection
of big buckets, md5 buckets for text keys; empty, missing and unreachable tables.

This module gets databases of its own (tests/integration/table_diff/conftest.py); each test its own
tables.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.compare import buckets, tables
from bridge.compare.model import TableSide
from bridge.compare.tables import diff_tables, table_checksum
from bridge.errors import DatabaseUnavailableError, UsageError
from pipelines.adapters import db
from tests.integration.table_diff.helpers import (
    insert_sql,
    keys,
    my_run,
    pg_run,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.mariadb]


def test_compared_columns_limit_what_counts(pg: str, name: str) -> None:
    rows = [(i, f"n{i}", i * 10) for i in range(1, 51)]
    other = [(i, f"renamed{i}" if i == 5 else f"n{i}", 11 if i == 1 else i * 10) for i in range(1, 51)]
    pg_run(
        pg,
        [f"CREATE TABLE airflow_out.{name} (id INT PRIMARY KEY, label TEXT, qty INT)"],
        rows,
        insert_sql(f"airflow_out.{name}", 3),
    )
    pg_run(
        pg,
        [f"CREATE TABLE shadow_prefect.{name} (id INT PRIMARY KEY, label TEXT, qty INT)"],
        other,
        insert_sql(f"shadow_prefect.{name}", 3),
    )
    a, p = TableSide(pg, "airflow_out", name), TableSide(pg, "shadow_prefect", name)
    assert [c.key for c in diff_tables(a, p, ["id"], ["qty"]).changed] == [(1,)]
    assert [c.key for c in diff_tables(a, p, ["id"], ["label"]).changed] == [(5,)]
    assert diff_tables(a, p, ["id"], []).equal  # keys only


def test_sample_holds_the_smallest_keys_and_counts_are_true(pg: str, name: str) -> None:
    pg_run(
        pg,
        [
            f"CREATE TABLE airflow_out.{name} (id INT PRIMARY KEY, v INT)",
            f"INSERT INTO airflow_out.{name} SELECT g, g FROM generate_series(1, 5000) g",
            f"CREATE TABLE shadow_prefect.{name} (id INT PRIMARY KEY, v INT)",
            f"INSERT INTO shadow_prefect.{name} SELECT g, CASE WHEN g % 100 = 7 THEN -g ELSE g END"
            " FROM generate_series(41, 5100) g",
        ],
    )
    diff = diff_tables(
        TableSide(pg, "airflow_out", name), TableSide(pg, "shadow_prefect", name), ["id"], sample=3
    )
    assert keys(diff.only_airflow) == [1, 2, 3] and diff.only_airflow_count == 40
    assert keys(diff.only_prefect) == [5001, 5002, 5003] and diff.only_prefect_count == 100
    assert [c.key for c in diff.changed] == [(107,), (207,), (307,)] and diff.changed_count == 50 - 1
    assert all(c.columns == ("v",) for c in diff.changed)


def test_big_buckets_are_bisected_down_to_the_rows(
    pg: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(buckets, "ROWS_PER_BUCKET", 4096)
    monkeypatch.setattr(tables, "FETCH_ROWS", 16)
    pg_run(
        pg,
        [
            f"CREATE TABLE airflow_out.{name} (id BIGINT PRIMARY KEY, v TEXT)",
            f"INSERT INTO airflow_out.{name} SELECT g * 3 - 20000, md5(g::text) FROM generate_series(1, 20000) g",
            f"CREATE TABLE shadow_prefect.{name} (LIKE airflow_out.{name} INCLUDING ALL)",
            f"INSERT INTO shadow_prefect.{name} SELECT * FROM airflow_out.{name}",
            f"UPDATE shadow_prefect.{name} SET v = 'x' WHERE id IN (-19997, 1, 30001)",
            f"DELETE FROM shadow_prefect.{name} WHERE id = 9997",
            f"INSERT INTO shadow_prefect.{name} VALUES (2, 'new')",
            f"ANALYZE airflow_out.{name}",
            f"ANALYZE shadow_prefect.{name}",
        ],
    )
    diff = diff_tables(TableSide(pg, "airflow_out", name), TableSide(pg, "shadow_prefect", name), ["id"])
    assert [c.key for c in diff.changed] == [(-19997,), (1,), (30001,)]
    assert keys(diff.only_airflow) == [9997] and keys(diff.only_prefect) == [2]
    assert diff.queries > 10  # it split: pass 1 alone is 2 queries a side


def test_text_keys_use_md5_buckets_across_engines(pg: str, my: str, name: str) -> None:
    rows = [(f"SKU-{i:04d}", f"Produkt {i} ü", Decimal(i) / 8) for i in range(2000)]
    other = [r for r in rows if r[0] != "SKU-0500"] + [("SKU-9999", "neu", Decimal("0.5"))]
    other = [(k, n, Decimal("7.77") if k == "SKU-1234" else p) for k, n, p in other]
    pg_run(
        pg,
        [f"CREATE TABLE airflow_out.{name} (sku VARCHAR(20) PRIMARY KEY, label TEXT, price NUMERIC(12,3))"],
        rows,
        insert_sql(f"airflow_out.{name}", 3),
    )
    my_run(
        my,
        [
            f"CREATE TABLE {name} (sku VARCHAR(20) PRIMARY KEY, label TEXT, price DECIMAL(12,4))"
            " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        ],
        other,
        insert_sql(name, 3),
    )
    diff = diff_tables(
        TableSide(pg, "airflow_out", name), TableSide(my, db.DatabaseUrl.parse(my).database, name), ["sku"]
    )
    assert keys(diff.only_airflow) == ["SKU-0500"] and keys(diff.only_prefect) == ["SKU-9999"]
    assert [(c.key, c.columns) for c in diff.changed] == [(("SKU-1234",), ("price",))]


# -- empty, missing, unreachable ------------------------------------------------------------------


def test_empty_tables_and_an_empty_side(pg: str, my: str, name: str) -> None:
    pg_run(
        pg,
        [
            f"CREATE TABLE airflow_out.{name} (id INT PRIMARY KEY, v TEXT)",
            f"CREATE TABLE shadow_prefect.{name} (id INT PRIMARY KEY, v TEXT)",
        ],
    )
    my_run(my, [f"CREATE TABLE {name} (id INT PRIMARY KEY, v TEXT)"])
    a, p = TableSide(pg, "airflow_out", name), TableSide(pg, "shadow_prefect", name)
    empty = diff_tables(a, p, ["id"])
    assert empty.equal and (empty.airflow_rows, empty.prefect_rows) == (0, 0)
    pg_run(pg, [f"INSERT INTO airflow_out.{name} SELECT g, 'v' FROM generate_series(1, 1500) g"])
    for prefect in (p, TableSide(my, db.DatabaseUrl.parse(my).database, name)):
        diff = diff_tables(a, prefect, ["id"], sample=2)
        assert diff.only_airflow_count == 1500 and keys(diff.only_airflow) == [1, 2]
        assert diff.prefect_rows == 0 and not diff.changed


def test_a_missing_table_or_column_is_a_usage_error(pg: str, name: str) -> None:
    pg_run(
        pg,
        [
            f"CREATE TABLE airflow_out.{name} (id INT PRIMARY KEY, v TEXT, w TEXT)",
            f"CREATE TABLE shadow_prefect.{name} (id INT PRIMARY KEY, v TEXT)",
        ],
    )
    a, p = TableSide(pg, "airflow_out", name), TableSide(pg, "shadow_prefect", name)
    with pytest.raises(UsageError, match=r"prefect table shadow_prefect\.nope not found"):
        diff_tables(a, TableSide(pg, "shadow_prefect", "nope"), ["id"])
    with pytest.raises(UsageError, match=r"compared column 'w' not found in the prefect table"):
        diff_tables(a, p, ["id"])  # every airflow column, and prefect lacks w
    with pytest.raises(UsageError, match=r"key column 'ident' not found in the airflow table"):
        diff_tables(a, p, ["ident"], ["v"])
    assert diff_tables(a, p, ["id"], ["v"]).equal


def test_a_key_that_is_not_unique_is_a_usage_error(pg: str, name: str) -> None:
    pg_run(
        pg,
        [
            f"CREATE TABLE airflow_out.{name} (id INT, v TEXT)",
            f"INSERT INTO airflow_out.{name} VALUES (1, 'a'), (1, 'b'), (2, 'c')",
            f"CREATE TABLE shadow_prefect.{name} (id INT, v TEXT)",
            f"INSERT INTO shadow_prefect.{name} VALUES (1, 'a'), (2, 'c')",
        ],
    )
    with pytest.raises(UsageError, match="not unique"):
        diff_tables(TableSide(pg, "airflow_out", name), TableSide(pg, "shadow_prefect", name), ["id"])


def test_an_unreachable_database_is_database_unavailable_without_the_password(pg: str, name: str) -> None:
    closed = f"postgresql://etl:s3cretPassw0rd@127.0.0.1:1/{name}"
    with pytest.raises(DatabaseUnavailableError) as err:
        diff_tables(TableSide(pg, "airflow_out", name), TableSide(closed, "x", name), ["id"])
    assert "s3cretPassw0rd" not in str(err.value) and "prefect database" in str(err.value)
    assert "127.0.0.1:1" in str(err.value)
    mysql_closed = f"mysql+pymysql://root:s3cretPassw0rd@127.0.0.1:1/{name}"
    with pytest.raises(DatabaseUnavailableError) as err:
        table_checksum(TableSide(mysql_closed, name, name), ["id"], ["v"])
    assert "s3cretPassw0rd" not in str(err.value)
