"""bridge.compare.tables against the real PostgreSQL and MariaDB: PG vs PG (two databases) and PG vs MariaDB.

This module gets databases of its own (random names, dropped at teardown): two PostgreSQL databases and
one MariaDB database; each test its own tables. Base URLs come from BRIDGE_WAREHOUSE_URL /
BRIDGE_SOURCE_URL (or the local defaults); only the database name is replaced.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from bridge.compare import buckets, tables
from bridge.compare.model import TableSide
from bridge.compare.tables import diff_tables, table_checksum
from bridge.errors import DatabaseUnavailableError, UsageError
from pipelines.adapters import db

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.mariadb]

TOKEN = secrets.token_hex(4)


def _with_db(url: str, name: str) -> str:
    return db.DatabaseUrl.parse(url).with_database(name).render(hide_password=False)


@pytest.fixture(scope="module")
def pg() -> Iterator[str]:
    url = _with_db(db.warehouse_url(), f"bridge_t{TOKEN}_tdiff")
    db.ensure_warehouse_database(url)
    try:
        pg_run(url, ["CREATE SCHEMA airflow_out", "CREATE SCHEMA shadow_prefect"])
        yield url
    finally:
        db.drop_warehouse_database(url)


@pytest.fixture(scope="module")
def pg2() -> Iterator[str]:
    """A second PostgreSQL database: the shadow side of a cross-database diff."""
    url = _with_db(db.warehouse_url(), f"bridge_t{TOKEN}_tdiff2")
    db.ensure_warehouse_database(url)
    try:
        pg_run(url, ["CREATE SCHEMA shadow_prefect"])
        yield url
    finally:
        db.drop_warehouse_database(url)


@pytest.fixture(scope="module")
def my() -> Iterator[str]:
    url = _with_db(db.source_url(), f"bridge_t{TOKEN}_tdiff")
    db.ensure_source_database(url)
    try:
        yield url
    finally:
        db.drop_source_database(url)


@pytest.fixture
def name() -> str:
    return f"t_{secrets.token_hex(4)}"


def pg_run(url: str, statements: Sequence[str], rows: Sequence[Sequence[Any]] = (), insert: str = "") -> None:
    with db.warehouse_connection(url) as conn:
        for statement in statements:
            conn.execute(statement)
        if rows:
            with conn.cursor() as cur:
                cur.executemany(insert, [tuple(r) for r in rows])
        conn.commit()


def my_run(url: str, statements: Sequence[str], rows: Sequence[Sequence[Any]] = (), insert: str = "") -> None:
    with db.source_connection(url) as conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
        if rows:
            cur.executemany(insert, [tuple(r) for r in rows])
        conn.commit()


def insert_sql(table: str, n: int) -> str:
    return f"INSERT INTO {table} VALUES ({', '.join(['%s'] * n)})"


def keys(diff_keys: Sequence[Sequence[Any]]) -> list[Any]:
    return [k[0] if len(k) == 1 else tuple(k) for k in diff_keys]


# -- the same rows in every engine ----------------------------------------------------------------

PG_PRICES = """CREATE TABLE {t} (
    product_id BIGINT NOT NULL, business_date DATE NOT NULL, sku VARCHAR(40), name TEXT,
    price NUMERIC(12, 2), ratio DOUBLE PRECISION, active BOOLEAN, updated_at TIMESTAMP(6),
    loaded_at TIMESTAMPTZ, PRIMARY KEY (product_id, business_date))"""
MY_PRICES = """CREATE TABLE {t} (
    product_id BIGINT NOT NULL, business_date DATE NOT NULL, sku VARCHAR(40), name TEXT,
    price DECIMAL(14, 4), ratio DECIMAL(10, 3), active TINYINT(1), updated_at DATETIME(6),
    loaded_at TIMESTAMP(6) NULL, PRIMARY KEY (product_id, business_date)) CHARACTER SET utf8mb4"""

NAMES = ["Crème brûlée ☕", "日本語の商品", "", None, "a|b", "pipe|", "~", "plain", "Ünïcödé 𝄞", "x" * 60]


def price_rows(n: int = 300) -> list[list[Any]]:
    rows = []
    for i in range(n):
        pid, day = 1000 + i // 3, date(2024, 5, 1 + i % 3)
        price = None if i % 17 == 0 else Decimal(i % 500) / 4  # 1.50, 10.00, 0.25 ...
        stamp = datetime(2024, 5, 1, 12, 0, 0, (i * 250000) % 1000000)  # .0 .25 .5 .75
        rows.append(
            [
                pid,
                day,
                f"SKU-{i:05d}",
                NAMES[i % len(NAMES)],
                price,
                (i % 10) / 10,
                None if i % 11 == 0 else i % 2 == 0,
                stamp,
                datetime(2024, 5, 2, 8, 30, i % 60, tzinfo=UTC),
            ]
        )
    return rows


def my_row(row: Sequence[Any]) -> list[Any]:
    """The same values as MariaDB takes them: no zone (the session is UTC), booleans as 0/1."""
    out = list(row)
    out[6] = None if row[6] is None else int(row[6])
    out[8] = row[8].replace(tzinfo=None)
    return out


def make_pg(url: str, table: str, rows: Sequence[Sequence[Any]]) -> None:
    pg_run(url, [PG_PRICES.format(t=table)], rows, insert_sql(table, 9))


def make_my(url: str, table: str, rows: Sequence[Sequence[Any]]) -> None:
    my_run(
        url,
        ["SET time_zone = '+00:00'", MY_PRICES.format(t=table)],
        [my_row(r) for r in rows],
        insert_sql(table, 9),
    )


def mutate(rows: list[list[Any]]) -> tuple[list[list[Any]], dict[str, Any]]:
    """The prefect copy: one row gone, one extra, changes in price / name (NULL vs '') / timestamp."""
    out = [list(r) for r in rows]
    gone = out.pop(10)
    expected_changed = {}
    for i, (col, value) in {
        4: (4, Decimal("99.99")),
        20: (3, ""),
        30: (3, None),
        41: (7, datetime(2024, 5, 1, 12, 0, 0, 1)),
        52: (2, "SKU-CHANGED"),
    }.items():
        row = next(r for r in out if r[2] == f"SKU-{i:05d}")
        if row[col] == value:
            value = "other"
        row[col] = value
        expected_changed[(row[0], row[1])] = {2: "sku", 3: "name", 4: "price", 7: "updated_at"}[col]
    out.append(
        [
            5000,
            date(2024, 5, 1),
            "SKU-NEW",
            "new",
            Decimal("1.5"),
            0.5,
            True,
            datetime(2024, 5, 1),
            datetime(2024, 5, 2, tzinfo=UTC),
        ]
    )
    return out, {"gone": (gone[0], gone[1]), "new": (5000, date(2024, 5, 1)), "changed": expected_changed}


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
