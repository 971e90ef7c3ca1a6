"""Scenario 3's loader against the real MariaDB (source) and PostgreSQL (warehouse), no orchestrator:
type fidelity through both readers, incremental merges, reruns, and a loader killed mid-load.

Databases of their own (random names, dropped at teardown); a target schema per test.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from devkit.etl_seed import DEFAULT_ANCHOR, late_order_updates, seed_etl
from pipelines.adapters import db
from pipelines.adapters.mysql_extract import ExtractConfig
from pipelines.errors import ExtractError
from pipelines.etl.jobs import etl_orders, etl_products, full_migration_weekly, prepare_etl_target
from pipelines.etl.tables import ALL_TABLES, BY_NAME, ORDER_ITEMS, ORDERS, PRODUCTS, EtlTable

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_hex(4)
DAY = "2025-01-01"
READERS = ("client", "pymysql")


def _url(base: str, name: str) -> str:
    return db.DatabaseUrl.parse(base).with_database(name).render(hide_password=False)


@pytest.fixture(scope="module")
def warehouse() -> Iterator[str]:
    url = _url(db.warehouse_url(), f"bridge_t{TOKEN}_etlwh")
    db.ensure_warehouse_database(url)
    try:
        yield url
    finally:
        db.drop_warehouse_database(url)


@pytest.fixture(scope="module")
def source() -> Iterator[str]:
    """1500 products and orders, seed 3: the shared, read-only source."""
    url = _url(db.source_url(), f"bridge_t{TOKEN}_etlsrc")
    seed_etl(url, 1500, 3)
    try:
        yield url
    finally:
        db.drop_source_database(url)


@pytest.fixture
def scratch() -> Iterator[str]:
    """A source a test may change."""
    url = _url(db.source_url(), f"bridge_t{TOKEN}_{secrets.token_hex(3)}")
    try:
        yield url
    finally:
        db.drop_source_database(url)


@pytest.fixture
def target() -> str:
    return f"etl_{secrets.token_hex(4)}"


def dump(warehouse: str, target: str, table: EtlTable) -> list[tuple[object, ...]]:
    with db.warehouse_connection(warehouse) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            sql.SQL(", ").join(map(sql.Identifier, table.column_names)),
            sql.Identifier(target, table.name),
            sql.SQL(", ").join(map(sql.Identifier, table.key)),
        )
        return conn.execute(query).fetchall()


def source_rows(url: str, table: EtlTable) -> list[tuple[object, ...]]:
    """The source as the warehouse should hold it: booleans as bool, TIMESTAMP as aware UTC."""
    with db.source_connection(url) as conn, conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00'")
        cur.execute(
            f"SELECT {', '.join(table.column_names)} FROM {table.name} ORDER BY {', '.join(table.key)}"
        )
        rows = cur.fetchall()
    kinds = [c.kind for c in table.columns]
    return [
        tuple(
            bool(v)
            if k == "bool" and v is not None
            else v.replace(tzinfo=UTC)
            if k == "timestamp" and v is not None
            else v
            for k, v in zip(kinds, row, strict=False)
        )
        for row in rows
    ]


def orders_since(url: str, watermark: str) -> set[int]:
    """Ids of the source orders an increment from ``watermark`` (ISO) reads."""
    with db.source_connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM orders WHERE updated_at >= %s", (datetime.fromisoformat(watermark),))
        return {int(r[0]) for r in cur.fetchall()}


def schema_tables(warehouse: str, target: str) -> set[str]:
    with db.warehouse_connection(warehouse) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (target,)
        ).fetchall()
    return {r[0] for r in rows}


def state(warehouse: str, target: str) -> list[tuple[object, ...]]:
    with db.warehouse_connection(warehouse) as conn:
        return conn.execute(
            sql.SQL("SELECT * FROM {} ORDER BY 1").format(sql.Identifier(target, "etl_state"))
        ).fetchall()


# -- every table, every value ------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", READERS)
def test_full_migration_copies_every_value_of_every_table(
    source: str, warehouse: str, target: str, reader: str
) -> None:
    summary = full_migration_weekly(source, warehouse, target, DAY, extract=ExtractConfig(reader, 64 * 1024))
    for table in ALL_TABLES:
        assert dump(warehouse, target, table) == source_rows(source, table), table.name
    assert summary["rows_total"]["products"] == 1500
    assert summary["rows_read"] == summary["rows_written"] == sum(summary["rows_total"].values())
    assert set(summary["checksums"]) == {t.name for t in ALL_TABLES}
    assert summary["watermark_before"] == {"products": None, "orders": None}
    assert summary["watermark_after"]["orders"] == max(r[9] for r in source_rows(source, ORDERS)).isoformat()


def test_both_readers_and_any_chunk_size_give_the_same_target(source: str, warehouse: str) -> None:
    summaries = [
        full_migration_weekly(
            source, warehouse, f"etl_{secrets.token_hex(4)}", DAY, extract=ExtractConfig(reader, chunk)
        )["checksums"]
        for reader, chunk in (("client", 1 << 20), ("client", 1000), ("pymysql", 1 << 20), ("pymysql", 700))
    ]
    assert all(s == summaries[0] for s in summaries)


EDGE_PRODUCTS = [  # id, sku, name, category_id, cost, stock, active, updated_at, description, weight_kg, created_at
    (
        900001,
        "E-1",
        "Ünïcödé 😀 緑茶 عربى e\u0301",
        None,
        None,
        0,
        1,
        datetime(2024, 1, 1),
        None,
        None,
        datetime(2024, 1, 1),
    ),
    (
        900002,
        "E-2",
        "empty description",
        1,
        Decimal("0.10"),
        1,
        0,
        datetime(2024, 1, 1),
        "",
        Decimal("1.100"),
        datetime(2024, 1, 1, 0, 0, 0, 1),
    ),
    (
        900003,
        "E-3",
        "string NULL",
        1,
        Decimal("-0.01"),
        -1,
        1,
        datetime(2024, 1, 1),
        "NULL",
        Decimal("0.000"),
        datetime(2024, 1, 1),
    ),
    (
        900004,
        "E-4",
        "backslash N",
        1,
        Decimal("0.00"),
        2,
        1,
        datetime(2024, 1, 1),
        "\\N",
        None,
        datetime(2024, 1, 1),
    ),
    (
        900005,
        "E-5",
        "lower null",
        1,
        Decimal("12.00"),
        3,
        1,
        datetime(2024, 1, 1),
        "null",
        None,
        datetime(2024, 1, 1),
    ),
    (
        900006,
        "E-6",
        "controls",
        1,
        Decimal("1.50"),
        4,
        1,
        datetime(2024, 1, 1),
        "tab\there\nnew\r\nline\\back\\",
        None,
        datetime(2024, 1, 1),
    ),
    (
        900007,
        "E-7",
        "literal escapes",
        1,
        Decimal("9999999999.99"),
        5,
        1,
        datetime(2024, 1, 1),
        "\\t is not a tab, \\\\ two, \\n no newline",
        Decimal("0.001"),
        datetime(2024, 1, 1),
    ),
    (
        900008,
        "E-8",
        "blank",
        1,
        None,
        6,
        1,
        datetime(1970, 1, 1, 0, 0, 1),
        " \t ",
        None,
        datetime(2024, 2, 29, 23, 59, 59, 999999),
    ),
    (
        900009,
        "E-9",
        "long",
        1,
        None,
        7,
        1,
        datetime(2024, 1, 1),
        "ação " * 2000,
        None,
        datetime(9999, 12, 31, 23, 59, 59, 999999),
    ),
    (900010, "E-10", "lone CR", 1, None, 8, 1, datetime(2024, 1, 1), "\r", None, datetime(2024, 1, 1)),
    (900011, "", "NULL", 1, None, 9, 1, datetime(2024, 1, 1), "\n", None, datetime(2024, 1, 1)),
]
# placed_at is written in the session zone given, read back as the same instant
EDGE_ORDERS = [  # id, customer_id, status, currency, total, discount_rate, note, placed_at, ship_date, updated_at, zone
    (
        900001,
        1,
        "paid",
        "BRL",
        Decimal("0.00"),
        Decimal("0.0001"),
        None,
        datetime(2024, 3, 10, 2, 30, 0, 123456),
        date(2024, 2, 29),
        datetime(2024, 6, 1, 0, 0, 0, 1),
        "-03:00",
    ),
    (
        900002,
        2,
        "NULL",
        "EUR",
        Decimal("123456789012.34"),
        Decimal("1.0000"),
        "",
        datetime(2024, 11, 3, 1, 30),
        None,
        datetime(2024, 6, 1, 0, 0, 0, 2),
        "+05:45",
    ),
    (
        900003,
        3,
        "paid",
        "USD",
        Decimal("1.00"),
        None,
        "NULL",
        datetime(1970, 1, 2, 0, 0),
        None,
        datetime(2024, 6, 1, 0, 0, 0, 3),
        "+00:00",
    ),
]
EXPECTED_PLACED_AT = {
    900001: datetime(2024, 3, 10, 5, 30, 0, 123456, tzinfo=UTC),
    900002: datetime(2024, 11, 2, 19, 45, tzinfo=UTC),
    900003: datetime(1970, 1, 2, 0, 0, tzinfo=UTC),
}


def _insert_edges(url: str) -> None:
    with db.source_connection(url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO products VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", EDGE_PRODUCTS
        )
        for *order, zone in EDGE_ORDERS:
            cur.execute("SET time_zone = %s", (zone,))
            cur.execute("INSERT INTO orders VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", order)
            cur.execute(
                "INSERT INTO order_items VALUES (%s, 1, 1, 1, %s, NULL, %s)",
                (order[0], Decimal("0.01"), "gift\twrap\\"),
            )
        conn.commit()


@pytest.mark.parametrize("reader", READERS)
def test_type_fidelity_case_by_case(scratch: str, warehouse: str, target: str, reader: str) -> None:
    seed_etl(scratch, 20, 1)
    _insert_edges(scratch)
    full_migration_weekly(scratch, warehouse, target, DAY, extract=ExtractConfig(reader))
    products = {row[0]: row for row in dump(warehouse, target, PRODUCTS)}
    for edge in EDGE_PRODUCTS:
        stored = products[edge[0]]
        expected = (*edge[:6], bool(edge[6]), *edge[7:])
        assert stored == expected, edge[0]
        for got, want in zip(stored, expected, strict=False):  # decimal scale, not just value
            if isinstance(want, Decimal):
                assert str(got) == str(want), (edge[0], got, want)
    assert str(products[900002][9]) == "1.100" and str(products[900007][4]) == "9999999999.99"
    assert products[900003][8] == "NULL" and products[900001][8] is None and products[900002][8] == ""
    assert products[900011][1] == "" and products[900011][2] == "NULL"  # NOT NULL columns: '' and 'NULL'
    orders = {row[0]: row for row in dump(warehouse, target, ORDERS)}
    for *edge, _zone in EDGE_ORDERS:
        stored = orders[edge[0]]
        assert stored[7] == EXPECTED_PLACED_AT[edge[0]] and stored[7].utcoffset() == timedelta(0)
        assert stored[:7] + stored[8:] == tuple(edge[:7] + edge[8:])
        assert str(stored[5]) == str(edge[5]) and str(stored[4]) == str(edge[4])
    items = {row[0]: row for row in dump(warehouse, target, ORDER_ITEMS)}
    assert items[900001][6] == "gift\twrap\\" and str(items[900001][4]) == "0.01"
    assert dump(warehouse, target, PRODUCTS) == source_rows(scratch, PRODUCTS)


@pytest.mark.parametrize("reader", READERS)
def test_a_nul_character_fails_the_load_and_leaves_the_target_alone(
    scratch: str, warehouse: str, target: str, reader: str
) -> None:
    seed_etl(scratch, 30, 2)
    etl_products(scratch, warehouse, target, DAY)
    before = dump(warehouse, target, PRODUCTS)
    with db.source_connection(scratch) as conn, conn.cursor() as cur:
        cur.execute("UPDATE products SET description = 'nul\\0inside' WHERE id = 7")
        conn.commit()
    with pytest.raises(psycopg.errors.CharacterNotInRepertoire):
        etl_products(scratch, warehouse, target, DAY, extract=ExtractConfig(reader))
    assert dump(warehouse, target, PRODUCTS) == before


def test_a_source_error_fails_the_load_and_leaves_the_target_alone(
    scratch: str, warehouse: str, target: str
) -> None:
    seed_etl(scratch, 30, 2)
    etl_products(scratch, warehouse, target, DAY)
    before = dump(warehouse, target, PRODUCTS)
    with db.source_connection(scratch) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE products DROP COLUMN description")
        conn.commit()
    with pytest.raises(ExtractError, match="description"):
        etl_products(scratch, warehouse, target, DAY, extract=ExtractConfig("client"))
    assert dump(warehouse, target, PRODUCTS) == before
    assert "products__swap" not in schema_tables(warehouse, target)


# -- incremental orders ----------------------------------------------------------------------------------------


def test_incremental_orders_merge_late_updates_and_new_orders(
    scratch: str, warehouse: str, target: str
) -> None:
    seed_etl(scratch, 400, 5)
    first = etl_orders(scratch, warehouse, target, DAY)
    assert first["watermark_before"] == {"orders": None}
    assert first["rows_read_by_table"]["orders"] == 400
    changes = late_order_updates(scratch, updated=25, inserted=7, seed=5)
    second = etl_orders(scratch, warehouse, target, DAY)
    assert second["watermark_before"]["orders"] == first["watermark_after"]["orders"]
    # the changed and new orders, and any still at exactly the old watermark (the bound is inclusive)
    window = orders_since(scratch, first["watermark_after"]["orders"])
    assert set(changes["updated_ids"]) | set(changes["inserted_ids"]) <= window
    assert len(window) - len(changes["updated_ids"]) - len(changes["inserted_ids"]) <= 1
    assert second["rows_read_by_table"]["orders"] == second["rows_written_by_table"]["orders"] == len(window)
    assert second["watermark_after"]["orders"] > second["watermark_before"]["orders"]
    assert second["rows_total"] == {"orders": 407, "order_items": len(source_rows(scratch, ORDER_ITEMS))}
    assert dump(warehouse, target, ORDERS) == source_rows(scratch, ORDERS)
    assert dump(warehouse, target, ORDER_ITEMS) == source_rows(scratch, ORDER_ITEMS)  # removed lines are gone
    assert len(changes["updated_ids"]) == 25
    third = etl_orders(scratch, warehouse, target, DAY)  # nothing changed: same target, same checksums
    assert third["checksums"] == second["checksums"]
    assert third["rows_read_by_table"]["orders"] == len(
        orders_since(scratch, second["watermark_after"]["orders"])
    )
    reference = f"etl_{secrets.token_hex(4)}"
    assert (
        full_migration_weekly(scratch, warehouse, reference, DAY)["checksums"]["orders"]
        == third["checksums"]["orders"]
    )


def test_the_newest_version_wins_when_the_target_is_ahead(scratch: str, warehouse: str, target: str) -> None:
    seed_etl(scratch, 100, 6)
    etl_orders(scratch, warehouse, target, DAY)
    changes = late_order_updates(scratch, updated=3, inserted=0, seed=6)
    ahead = changes["updated_ids"][0]
    with db.warehouse_connection(warehouse) as conn:  # the target already holds a later version of one order
        conn.execute(
            sql.SQL(
                "UPDATE {} SET status = 'from-the-future', updated_at = '2030-01-01' WHERE id = %s"
            ).format(sql.Identifier(target, "orders")),
            (ahead,),
        )
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE order_id = %s AND line_no > 1").format(
                sql.Identifier(target, "order_items")
            ),
            (ahead,),
        )
        conn.commit()
    kept_items = [r for r in dump(warehouse, target, ORDER_ITEMS) if r[0] == ahead]
    summary = etl_orders(scratch, warehouse, target, DAY)
    orders = {r[0]: r for r in dump(warehouse, target, ORDERS)}
    assert orders[ahead][2] == "from-the-future"
    assert [r for r in dump(warehouse, target, ORDER_ITEMS) if r[0] == ahead] == kept_items
    source = {r[0]: r for r in source_rows(scratch, ORDERS)}
    for oid in changes["updated_ids"][1:]:
        assert orders[oid] == source[oid]
    assert summary["rows_written_by_table"]["orders"] == summary["rows_read_by_table"]["orders"] - 1


# -- reruns and crashes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job", [etl_products, etl_orders, full_migration_weekly])
def test_a_rerun_gives_an_identical_target(source: str, warehouse: str, target: str, job) -> None:  # type: ignore[no-untyped-def]
    first = job(source, warehouse, target, DAY)
    dumps = {t: dump(warehouse, target, BY_NAME[t]) for t in first["checksums"]}
    again = job(source, warehouse, target, DAY)
    assert {t: dump(warehouse, target, BY_NAME[t]) for t in first["checksums"]} == dumps
    assert again["checksums"] == first["checksums"] and again["rows_total"] == first["rows_total"]
    assert not any(name.endswith("__swap") for name in schema_tables(warehouse, target))


_SLOW_LOADER = """
import sys, time
from pipelines.etl import jobs as etl
from pipelines.adapters import loader as etl_load
original = etl_load.to_pg_copy
def slow(chunk):
    print("chunk", flush=True)
    time.sleep(0.05)
    return original(chunk)
etl_load.to_pg_copy = slow
getattr(etl, sys.argv[1])(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
print("done", flush=True)
"""


def _kill_mid_load(job: str, source: str, warehouse: str, target: str) -> None:
    """Run ``job`` in a subprocess slowed to small chunks; SIGKILL it once its COPY is under way."""
    env = {**os.environ, "BRIDGE_ETL_CHUNK_BYTES": "4096", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_LOADER, job, source, warehouse, target, DAY],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        chunks = 0
        while chunks < 4:
            line = proc.stdout.readline()
            assert line, f"loader ended early: {proc.stderr.read() if proc.stderr else ''}"
            chunks += line.strip() == "chunk"
        with db.warehouse_connection(warehouse) as conn:  # a COPY into this database is in progress
            copying = conn.execute(
                "SELECT pid FROM pg_stat_progress_copy WHERE datname = current_database()"
            ).fetchall()
        assert copying, "no COPY in progress when the loader was killed"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with db.warehouse_connection(warehouse) as conn:  # its backend notices the dead client and rolls back
        deadline = time.monotonic() + 30
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", ([r[0] for r in copying],)
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the killed loader's session never ended"
            time.sleep(0.2)


@pytest.mark.parametrize("job", ["full_migration_weekly", "etl_orders"])
def test_a_loader_killed_mid_load_leaves_the_target_as_before_and_a_rerun_completes_it(
    scratch: str, warehouse: str, target: str, job: str
) -> None:
    run = {"full_migration_weekly": full_migration_weekly, "etl_orders": etl_orders}[job]
    seed_etl(scratch, 1200, 21)
    run(scratch, warehouse, target, DAY)
    tables = [t for t in ALL_TABLES if job == "full_migration_weekly" or t in (ORDERS, ORDER_ITEMS)]
    before = {t.name: dump(warehouse, target, t) for t in tables}
    state_before = state(warehouse, target)
    if job == "full_migration_weekly":
        seed_etl(scratch, 1300, 22)  # a new source: every table changes
    else:
        late_order_updates(scratch, updated=300, inserted=200, seed=22)

    _kill_mid_load(job, scratch, warehouse, target)

    assert {t.name: dump(warehouse, target, t) for t in tables} == before
    assert state(warehouse, target) == state_before
    assert not any(n.endswith("__swap") for n in schema_tables(warehouse, target))
    rerun = run(scratch, warehouse, target, DAY)
    for table in tables:
        assert dump(warehouse, target, table) == source_rows(scratch, table), table.name
    reference = f"etl_{secrets.token_hex(4)}"
    prepare_etl_target(warehouse, reference)
    assert (
        full_migration_weekly(scratch, warehouse, reference, DAY)["checksums"][ORDERS.name]
        == rerun["checksums"][ORDERS.name]
    )


# -- the seed ---------------------------------------------------------------------------------------------------


def test_seed_is_deterministic_and_scenario_1_runs_on_it(scratch: str, warehouse: str, target: str) -> None:
    from pipelines.cron.prices import update_prices
    from pipelines.cron.products import process_products

    first = seed_etl(scratch, 300, 9)
    dump_first = source_rows(scratch, PRODUCTS)
    second = seed_etl(scratch, 300, 9)
    assert first == second and source_rows(scratch, PRODUCTS) == dump_first
    assert seed_etl(scratch, 300, 10)["checksum"] != first["checksum"]
    assert first["rows"]["products"] == 300 and first["rows"]["orders"] == 300
    assert first["rows"]["order_items"] >= 300 and first["rows"]["promotions"] == 15
    seed_etl(scratch, 300, 9)
    processed = process_products(
        scratch, warehouse, target, None, (DEFAULT_ANCHOR - timedelta(days=1)).date()
    )
    assert processed["rows_read"] == 300
    priced = update_prices(scratch, warehouse, target, (DEFAULT_ANCHOR - timedelta(days=1)).date())
    assert priced["rows_written"] > 0
