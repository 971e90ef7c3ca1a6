"""Scenario 3's loader, type fidelity case by case: awkward values of every column kind through both
readers, and loads that must fail (a NUL character, a source error) leaving the target alone.

Databases of their own (random names, dropped at teardown); a target schema per test (``conftest.py``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from devkit.etl_seed import seed_etl
from pipelines.adapters import db
from pipelines.adapters.mysql_extract import ExtractConfig
from pipelines.errors import ExtractError
from pipelines.etl.tables import ORDER_ITEMS, ORDERS, PRODUCTS
from pipelines.jobs.etl import etl_products, full_migration_weekly
from tests.integration.etl_helpers import (
    DAY,
    READERS,
    dump,
    schema_tables,
    source_rows,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


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
