"""Scratch databases and the same price rows in every engine, for the table-diff tests.

Databases get random names (dropped at teardown); base URLs come from BRIDGE_WAREHOUSE_URL /
BRIDGE_SOURCE_URL (or the local defaults), only the database name is replaced.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pipelines.adapters import db
from tests.helpers import own_database


@contextmanager
def pg_database(schemas: Sequence[str]) -> Iterator[str]:
    """A PostgreSQL database of its own holding ``schemas``; dropped at the end."""
    with own_database("warehouse", f"bridge_t{secrets.token_hex(4)}_tdiff") as url:
        pg_run(url, [f"CREATE SCHEMA {schema}" for schema in schemas])
        yield url


@contextmanager
def mariadb_database() -> Iterator[str]:
    """A MariaDB database of its own; dropped at the end."""
    with own_database("source", f"bridge_t{secrets.token_hex(4)}_tdiff") as url:
        yield url


def table_name() -> str:
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
