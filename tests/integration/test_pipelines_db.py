"""pipelines/ against the real MariaDB (source) and PostgreSQL (warehouse).

Each session gets databases of its own (random names, dropped at teardown); each test its own target
schemas. Base URLs come from BRIDGE_SOURCE_URL / BRIDGE_WAREHOUSE_URL (or the local defaults); only the
database name is replaced.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from psycopg import sql

from devkit.catalog_seed import DEFAULT_ANCHOR, seed_products
from pipelines.adapters import db
from pipelines.adapters.warehouse import read_rows
from pipelines.common.summary import checksum_rows
from pipelines.cron.pricing import DEFAULT_MARGIN_PCT, compute_price
from pipelines.cron.validation import SKU_PATTERN
from pipelines.errors import InvalidTargetError
from pipelines.jobs.prices import PRICE_HISTORY, update_prices
from pipelines.jobs.products import PROCESSED_PRODUCTS, process_products, window_end
from tests.helpers import own_database

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.mariadb]

ROWS = 400
SEED = 20240601
LAST_DAY = (DEFAULT_ANCHOR - timedelta(days=1)).date()  # 2024-12-31: every seeded row is before its end
MID_DAY = LAST_DAY - timedelta(days=10)
TOKEN = secrets.token_hex(4)


@pytest.fixture(scope="module")
def source() -> Iterator[str]:
    with own_database("source", f"bridge_t{TOKEN}_src") as url:
        seed_products(url, ROWS, SEED)
        yield url


@pytest.fixture(scope="module")
def scratch_source() -> Iterator[str]:
    """A second source database, for tests that reseed."""
    with own_database("source", f"bridge_t{TOKEN}_scratch") as url:
        yield url


@pytest.fixture(scope="module")
def warehouse() -> Iterator[str]:
    with own_database("warehouse", f"bridge_t{TOKEN}_wh") as url:
        yield url


@pytest.fixture
def target() -> str:
    return f"t_{secrets.token_hex(4)}"


def mysql_rows(url: str, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with db.source_connection(url) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return list(cur.fetchall())


def pg_rows(
    url: str, query: sql.Composable | str, params: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    with db.warehouse_connection(url) as conn:
        return conn.execute(query, params).fetchall()


def user_schemas(url: str) -> set[str]:
    rows = pg_rows(
        url,
        "SELECT schema_name FROM information_schema.schemata "
        "WHERE schema_name NOT LIKE 'pg\\_%%' AND schema_name <> 'information_schema'",
    )
    return {r[0] for r in rows}


def table_dump(url: str, target: str, table: str) -> list[tuple[object, ...]]:
    return pg_rows(url, sql.SQL("SELECT * FROM {} ORDER BY 1, 2").format(sql.Identifier(target, table)))


# -- database plumbing ----------------------------------------------------------------------------------


def test_urls_accept_redshift_and_keep_secrets_out_of_text() -> None:
    parsed = db.DatabaseUrl.parse("redshift+psycopg://etl:p%40ss@cluster.example:5439/dev?sslmode=require")
    assert (parsed.dialect, parsed.postgres_wire, parsed.port, parsed.password) == (
        "redshift",
        True,
        5439,
        "p@ss",
    )
    assert "p@ss" not in parsed.render() and "***" in parsed.render()
    assert db.DatabaseUrl.parse("redshift://etl@cluster.example/dev").port == 5439
    assert db.DatabaseUrl.parse("mysql+pymysql://root@127.0.0.1/bridge_source").dialect == "mysql"
    with pytest.raises(db.DatabaseUrlError):
        db.DatabaseUrl.parse("sqlite:///x.db")


def test_databases_are_created_if_missing_and_creation_is_idempotent(source: str, warehouse: str) -> None:
    assert db.ensure_source_database(source) == db.DatabaseUrl.parse(source).database
    assert db.ensure_warehouse_database(warehouse) == db.DatabaseUrl.parse(warehouse).database


# -- seed ------------------------------------------------------------------------------------------------


def test_seed_is_deterministic_and_reseeding_replaces(scratch_source: str) -> None:
    first = seed_products(scratch_source, 150, 42)
    dump_first = mysql_rows(scratch_source, "SELECT * FROM products ORDER BY id")
    second = seed_products(scratch_source, 150, 42)
    dump_second = mysql_rows(scratch_source, "SELECT * FROM products ORDER BY id")
    assert first == second
    assert dump_first == dump_second
    assert mysql_rows(scratch_source, "SELECT COUNT(*) FROM products") == [(150,)]
    other = seed_products(scratch_source, 150, 43)
    assert other["checksum"] != first["checksum"]
    smaller = seed_products(scratch_source, 20, 42)
    assert mysql_rows(scratch_source, "SELECT COUNT(*) FROM products") == [(20,)]
    assert smaller["products"] == 20


def test_seed_has_unicode_and_every_kind_of_dirty_row(source: str) -> None:
    def count(where: str) -> int:
        return int(mysql_rows(source, f"SELECT COUNT(*) FROM products WHERE {where}")[0][0])

    assert count("cost IS NULL") > 0
    assert count("cost <= 0") > 0
    assert count("stock < 0") > 0
    assert count("TRIM(name) = ''") > 0
    assert count("category_id IS NULL OR category_id NOT IN (SELECT id FROM categories)") > 0
    assert count("sku <> UPPER(TRIM(sku))") > 0
    assert count("CHAR_LENGTH(name) <> LENGTH(name)") > 0  # multi-byte characters survive
    assert mysql_rows(source, "SELECT COUNT(*) FROM promotions")[0][0] > 0


# -- process_products ------------------------------------------------------------------------------------


def test_process_products_writes_only_into_its_target(source: str, warehouse: str, target: str) -> None:
    before = user_schemas(warehouse)
    summary = process_products(source, warehouse, target, None, LAST_DAY)
    assert user_schemas(warehouse) - before == {target}
    tables = pg_rows(
        warehouse, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (target,)
    )
    assert {t[0] for t in tables} == {"processed_products", "etl_watermarks"}
    assert summary["rows_read"] == summary["rows_written"] == ROWS  # full load: nothing before the target
    assert summary["rows_valid"] + summary["rows_rejected"] == ROWS
    assert len(table_dump(warehouse, target, "processed_products")) == ROWS
    assert summary["workflow"] == "process_products"
    assert summary["business_date"] == LAST_DAY.isoformat()
    assert summary["target"] == target
    assert json.loads(json.dumps(summary)) == summary


def test_process_products_rerun_is_idempotent(source: str, warehouse: str, target: str) -> None:
    first = process_products(source, warehouse, target, None, MID_DAY)
    rows_first = table_dump(warehouse, target, "processed_products")
    second = process_products(source, warehouse, target, None, MID_DAY)
    assert second == first
    assert table_dump(warehouse, target, "processed_products") == rows_first


def test_two_targets_get_identical_rows_and_summaries(source: str, warehouse: str, target: str) -> None:
    shadow = f"{target}_shadow"
    primary = process_products(source, warehouse, target, None, LAST_DAY)
    secondary = process_products(source, warehouse, shadow, None, LAST_DAY)
    assert {**secondary, "target": target} == primary
    assert table_dump(warehouse, shadow, "processed_products") == table_dump(
        warehouse, target, "processed_products"
    )


def test_incremental_window_follows_the_watermark(source: str, warehouse: str, target: str) -> None:
    first = process_products(source, warehouse, target, None, MID_DAY)
    expected_first = mysql_rows(
        source, "SELECT COUNT(*) FROM products WHERE updated_at < %s", (window_end(MID_DAY),)
    )
    assert first["rows_read"] == expected_first[0][0]
    assert first["since"] is None
    high_water = mysql_rows(
        source, "SELECT MAX(updated_at) FROM products WHERE updated_at < %s", (window_end(MID_DAY),)
    )[0][0]

    second = process_products(source, warehouse, target, None, LAST_DAY)
    assert second["since"] == high_water.isoformat()
    expected_second = mysql_rows(
        source,
        "SELECT COUNT(*) FROM products WHERE updated_at >= %s AND updated_at < %s",
        (high_water, window_end(LAST_DAY)),
    )
    assert second["rows_read"] == expected_second[0][0]
    assert first["rows_read"] + second["rows_read"] >= ROWS  # nothing missed (the boundary row is read twice)

    # A rerun of either date reads the same window as its first run.
    assert process_products(source, warehouse, target, None, MID_DAY) == first
    assert process_products(source, warehouse, target, None, LAST_DAY) == second


def test_explicit_since_narrows_the_window(source: str, warehouse: str, target: str) -> None:
    since = datetime.combine(LAST_DAY, datetime.min.time())
    summary = process_products(source, warehouse, target, since.isoformat(), LAST_DAY)
    expected = mysql_rows(
        source,
        "SELECT COUNT(*) FROM products WHERE updated_at >= %s AND updated_at < %s",
        (since, window_end(LAST_DAY)),
    )
    assert summary["rows_read"] == expected[0][0] < ROWS
    assert summary["since"] == since.isoformat()


def test_bad_records_are_flagged_with_their_reasons(source: str, warehouse: str, target: str) -> None:
    process_products(source, warehouse, target, None, LAST_DAY)
    with db.warehouse_connection(warehouse) as conn:
        written = {r[0]: r for r in read_rows(conn, target, PROCESSED_PRODUCTS)}
    columns = PROCESSED_PRODUCTS.column_names
    valid_at, reason_at, sku_at = (
        columns.index("is_valid"),
        columns.index("reject_reason"),
        columns.index("sku"),
    )

    def reasons(pid: int) -> set[str]:
        return set((written[pid][reason_at] or "").split(",")) - {""}

    checks = {
        "null_cost": "cost IS NULL",
        "non_positive_cost": "cost <= 0",
        "negative_stock": "stock < 0",
        "empty_name": "TRIM(name) = ''",
        "unknown_category": "category_id IS NULL OR category_id NOT IN (SELECT id FROM categories)",
    }
    for reason, where in checks.items():
        ids = [r[0] for r in mysql_rows(source, f"SELECT id FROM products WHERE {where}")]
        assert ids, reason
        for pid in ids:
            assert written[pid][valid_at] is False
            assert reason in reasons(pid), (pid, written[pid])
    for row in written.values():
        assert row[valid_at] is (row[reason_at] is None)
        if row[valid_at]:
            assert re.fullmatch(SKU_PATTERN, row[sku_at])
    # Messy SKUs are repaired, not rejected.
    messy = mysql_rows(
        source,
        "SELECT id, sku FROM products "
        "WHERE sku <> UPPER(TRIM(sku)) AND sku REGEXP '^ *[a-zA-Z]{3}[-_ ][0-9]{6} *$'",
    )
    assert messy
    for pid, raw in messy:
        assert written[pid][sku_at] == re.sub(r"[\s_]+", "-", raw.strip().upper())
        assert "invalid_sku" not in reasons(pid)


def test_checksum_is_over_the_rows_as_written(source: str, warehouse: str, target: str) -> None:
    summary = process_products(source, warehouse, target, None, LAST_DAY)
    with db.warehouse_connection(warehouse) as conn:
        rows = read_rows(conn, target, PROCESSED_PRODUCTS)
    assert (
        checksum_rows(PROCESSED_PRODUCTS.column_names, rows, PROCESSED_PRODUCTS.key_positions)
        == summary["checksum"]
    )


@pytest.mark.parametrize(
    "bad", ["Warehouse", "pg_catalog", "information_schema", "a;drop", "", "1abc", "x" * 64]
)
def test_invalid_targets_are_refused_before_any_write(source: str, warehouse: str, bad: str) -> None:
    before = user_schemas(warehouse)
    with pytest.raises(InvalidTargetError):
        process_products(source, warehouse, bad, None, LAST_DAY)
    with pytest.raises(InvalidTargetError):
        update_prices(source, warehouse, bad, LAST_DAY)
    assert user_schemas(warehouse) == before


# -- update_prices ---------------------------------------------------------------------------------------


def expected_prices(source: str, day: date) -> dict[int, Decimal]:
    """Prices recomputed here from the source, independently of price_rows."""
    margins = {cid: m for cid, m in mysql_rows(source, "SELECT id, margin_pct FROM categories")}
    promos = mysql_rows(
        source,
        "SELECT id, product_id, category_id, percent_off FROM promotions "
        "WHERE valid_from <= %s AND (valid_to IS NULL OR valid_to >= %s)",
        (day, day),
    )
    expected = {}
    for pid, cat, cost, active in mysql_rows(source, "SELECT id, category_id, cost, active FROM products"):
        if cost is None or cost <= 0 or not active:
            continue
        applicable = [p for p in promos if p[1] == pid or (p[1] is None and p[2] is not None and p[2] == cat)]
        best = max((p[3] for p in applicable if 0 < p[3] < 100), default=Decimal(0))
        expected[pid] = compute_price(cost, margins.get(cat, DEFAULT_MARGIN_PCT), best)
    return expected


def test_update_prices_writes_one_row_per_priced_product(source: str, warehouse: str, target: str) -> None:
    before = user_schemas(warehouse)
    summary = update_prices(source, warehouse, target, LAST_DAY)
    assert user_schemas(warehouse) - before == {target}
    rows = table_dump(warehouse, target, "price_history")
    expected = expected_prices(source, LAST_DAY)
    assert {r[0]: r[8] for r in rows} == expected
    assert all(r[1] == LAST_DAY for r in rows)
    assert all(str(r[8]).endswith((".90", ".99")) for r in rows)
    assert summary["rows_written"] == len(expected)
    assert summary["products_read"] == ROWS
    invalid_cost = mysql_rows(source, "SELECT COUNT(*) FROM products WHERE cost IS NULL OR cost <= 0")[0][0]
    assert summary["skipped_invalid_cost"] == invalid_cost > 0
    assert summary["rows_written"] + summary["skipped_invalid_cost"] + summary["skipped_inactive"] == ROWS
    assert summary["promoted"] > 0
    assert json.loads(json.dumps(summary)) == summary


def test_update_prices_rerun_is_idempotent_and_dates_accumulate(
    source: str, warehouse: str, target: str
) -> None:
    first = update_prices(source, warehouse, target, LAST_DAY)
    dump = table_dump(warehouse, target, "price_history")
    assert update_prices(source, warehouse, target, LAST_DAY.isoformat()) == first
    assert table_dump(warehouse, target, "price_history") == dump

    earlier = update_prices(source, warehouse, target, MID_DAY)
    after = table_dump(warehouse, target, "price_history")
    assert len(after) == len(dump) + earlier["rows_written"]
    assert [r for r in after if r[1] == LAST_DAY] == dump  # the other date is untouched
    with db.warehouse_connection(warehouse) as conn:
        mid_rows = read_rows(conn, target, PRICE_HISTORY, sql.SQL("business_date = %s"), (MID_DAY,))
    assert (
        checksum_rows(PRICE_HISTORY.column_names, mid_rows, PRICE_HISTORY.key_positions)
        == earlier["checksum"]
    )


def test_update_prices_same_rows_in_two_targets(source: str, warehouse: str, target: str) -> None:
    shadow = f"{target}_shadow"
    primary = update_prices(source, warehouse, target, LAST_DAY)
    secondary = update_prices(source, warehouse, shadow, LAST_DAY)
    assert {**secondary, "target": target} == primary
    assert table_dump(warehouse, shadow, "price_history") == table_dump(warehouse, target, "price_history")


def test_pipelines_accept_open_connections(source: str, warehouse: str, target: str) -> None:
    with db.source_connection(source) as src, db.warehouse_connection(warehouse) as wh:
        by_conn = update_prices(src, wh, target, LAST_DAY)
        assert not wh.closed and src.open  # borrowed connections stay open
    by_url = update_prices(source, warehouse, target, LAST_DAY)
    assert by_conn == by_url
