"""Deterministic source data for scenario 3: ``categories``, ``products``, ``promotions``, ``orders``,
``order_items`` in MySQL/MariaDB, at any size (``bridge seed etl --rows N --seed S``).

Compatible with scenario 1 (``devkit.catalog_seed``): ``categories`` and ``promotions`` have its columns, and
``products`` has its eight columns first, then ``description`` (TEXT), ``weight_kg`` (DECIMAL(10,3)) and
``created_at`` (DATETIME(6)); scenario 1 reads only its own columns, so its pipelines run on this source.
Seeding replaces all five tables, in a database the bridge created only (``catalog_seed.replace_tables``).

The same ``(rows, seed, orders, anchor)`` always gives byte-identical tables: one ``random.Random(seed)``
per table (the rows: ``devkit.etl_generate``). Rows are generated and loaded in chunks (``LOAD DATA LOCAL
INFILE`` of a temporary file), so memory stays flat at any size. The tables: ``pipelines.common.source_schema``.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta

import pymysql

from devkit.catalog_seed import DEFAULT_ANCHOR, replace_tables
from devkit.etl_generate import (
    STATUSES,
    TRICKY_TEXT,
    Row,
    generate_categories,
    generate_orders,
    generate_products,
    generate_promotions,
    order_total,
    tsv_field,
)
from pipelines.adapters import ownership
from pipelines.adapters.db import connect_source, ensure_source_database
from pipelines.common.source_schema import create_statements
from pipelines.common.tables import quote_mysql

CHUNK_ROWS = 50_000
_DDL = create_statements(("categories", "products", "promotions", "orders", "order_items"))


def _connect(url: str | None) -> pymysql.connections.Connection:
    conn = connect_source(url, local_infile=True)
    with conn.cursor() as cur:
        cur.execute(
            "SET time_zone = '+00:00', unique_checks = 0, sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,"
            "NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO'"
        )
    return conn


class _TableWriter:
    """Rows in, ``LOAD DATA LOCAL INFILE`` of ``CHUNK_ROWS`` at a time out; a sha256 of every line."""

    def __init__(self, conn: pymysql.connections.Connection, table: str, columns: int, tmpdir: str) -> None:
        self.conn, self.table, self.columns = conn, table, columns
        self.path = os.path.join(tmpdir, f"{table}.tsv")
        self.lines: list[str] = []
        self.rows = 0
        self.digest = hashlib.sha256()

    def add(self, row: Row) -> None:
        assert len(row) == self.columns, (self.table, row)
        self.lines.append("\t".join(tsv_field(v) for v in row))
        if len(self.lines) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.lines:
            return
        data = ("\n".join(self.lines) + "\n").encode("utf-8")
        self.digest.update(data)
        with open(self.path, "wb") as handle:
            handle.write(data)
        with self.conn.cursor() as cur:
            cur.execute(
                f"LOAD DATA LOCAL INFILE %s INTO TABLE {quote_mysql(self.table)} CHARACTER SET utf8mb4 "
                "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'",
                (self.path,),
            )
            if cur.rowcount != len(self.lines):
                raise RuntimeError(f"{self.table}: loaded {cur.rowcount} of {len(self.lines)} rows")
            warnings = self.conn.show_warnings()
            if warnings:
                raise RuntimeError(f"{self.table}: LOAD DATA warnings: {warnings[:3]}")
        self.rows += len(self.lines)
        self.lines = []


def seed_etl(
    url: str | None,
    rows: int,
    seed: int,
    *,
    orders: int | None = None,
    promotions: int | None = None,
    anchor: datetime = DEFAULT_ANCHOR,
    progress: Callable[[str, int], None] | None = None,
    i_own_this_database: bool = False,
) -> dict[str, object]:
    """Replace the five source tables with ``rows`` products, ``orders`` orders (default: ``rows``) with
    1-5 items each, and ``promotions`` promotions (default ``rows // 20``), all drawn from ``seed``.

    ``url``: a ``mysql://`` URL (the database is created if missing) or None (``$BRIDGE_SOURCE_URL``); a
    database the bridge did not create is refused unless ``i_own_this_database``.
    ``progress(table, rows_so_far)`` is called after each loaded chunk. Returns a summary: the row count
    and a sha256 of the generated data per table, and one ``checksum`` over them.
    """
    if rows < 0 or (orders is not None and orders < 0) or (promotions is not None and promotions < 0):
        raise ValueError("row counts must be >= 0")
    orders = rows if orders is None else orders
    promotions = rows // 20 if promotions is None else promotions
    ensure_source_database(url)
    conn = _connect(url)
    try:
        replace_tables(conn, _DDL, i_own_this_database=i_own_this_database)
        with tempfile.TemporaryDirectory(prefix="bridge-seed-") as tmpdir:
            writers = {
                name: _TableWriter(conn, name, width, tmpdir)
                for name, width in (
                    ("categories", 3),
                    ("products", 11),
                    ("promotions", 6),
                    ("orders", 10),
                    ("order_items", 7),
                )
            }

            def feed(name: str, row: Row) -> None:
                writer = writers[name]
                writer.add(row)
                if progress and not writer.lines:
                    progress(name, writer.rows)

            for row in generate_categories():
                feed("categories", row)
            for row in generate_products(rows, random.Random(f"{seed}:products"), anchor):
                feed("products", row)
            for row in generate_promotions(promotions, rows, random.Random(f"{seed}:promotions"), anchor):
                feed("promotions", row)
            for order, items in generate_orders(orders, rows, random.Random(f"{seed}:orders"), anchor):
                feed("orders", order)
                for item in items:
                    feed("order_items", item)
            for writer in writers.values():
                writer.flush()
        conn.commit()
    finally:
        conn.close()
    digests = {name: w.digest.hexdigest() for name, w in writers.items()}
    return {
        "seed": seed,
        "anchor": anchor.isoformat(),
        "rows": {name: w.rows for name, w in writers.items()},
        "digests": digests,
        "checksum": hashlib.sha256(
            "\n".join(f"{k}:{v}" for k, v in sorted(digests.items())).encode()
        ).hexdigest(),
    }


def late_order_updates(
    url: str | None,
    updated: int,
    inserted: int,
    seed: int,
    *,
    at: datetime = DEFAULT_ANCHOR + timedelta(days=1),
    i_own_this_database: bool = False,
) -> dict[str, object]:
    """Late changes to the orders, deterministic for the same arguments and source:

    ``updated`` existing orders (any age) get a new status, note, one more unit on line 1, their last line
    removed when they have several, a recomputed total and ``updated_at`` = ``at`` + i microseconds;
    ``inserted`` new orders (ids after the largest) arrive with ``updated_at`` after ``at`` too.
    Returns ``{"updated_ids": [...], "inserted_ids": [...]}``. Only in a database the bridge created,
    unless ``i_own_this_database``.
    """
    rng = random.Random(f"{seed}:late")
    conn = _connect(url)
    try:
        ownership.require_owned(conn, "rewrite orders in", override=i_own_this_database)
        with conn.cursor() as cur:
            cur.execute("SELECT COALESCE(MAX(id), 0), (SELECT COUNT(*) FROM products) FROM orders")
            row = cur.fetchone()
            assert row is not None
            max_id, products = (int(v) for v in row)
            ids = sorted(rng.sample(range(1, max_id + 1), min(updated, max_id)))
            for i, oid in enumerate(ids):
                cur.execute(
                    "UPDATE order_items SET quantity = quantity + 1 WHERE order_id = %s AND line_no = 1",
                    (oid,),
                )
                cur.execute(
                    "DELETE i FROM order_items i JOIN (SELECT MAX(line_no) AS last, COUNT(*) AS n "
                    "FROM order_items WHERE order_id = %s) m ON i.line_no = m.last AND m.n > 1 "
                    "WHERE i.order_id = %s",
                    (oid, oid),
                )
                cur.execute(
                    "SELECT order_id, line_no, product_id, quantity, unit_price, discount_pct, gift_message "
                    "FROM order_items WHERE order_id = %s ORDER BY line_no",
                    (oid,),
                )
                total = order_total([tuple(r) for r in cur.fetchall()])
                cur.execute(
                    "UPDATE orders SET status = %s, note = %s, total = %s, updated_at = %s WHERE id = %s",
                    (
                        rng.choice(STATUSES),
                        rng.choice((*TRICKY_TEXT, "late update")),
                        total,
                        at + timedelta(microseconds=i),
                        oid,
                    ),
                )
            new_ids = list(range(max_id + 1, max_id + inserted + 1))
            start = at + timedelta(microseconds=len(ids))
            for order, items in generate_orders(inserted, products, rng, at):
                oid = new_ids[int(order[0]) - 1]  # type: ignore[call-overload]
                stamp = start + timedelta(microseconds=int(order[0]))  # type: ignore[call-overload]
                placed_at = stamp - timedelta(hours=rng.randint(0, 48))
                cur.execute(
                    "INSERT INTO orders VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (oid, *order[1:7], placed_at, order[8], stamp),
                )
                cur.executemany(
                    "INSERT INTO order_items VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [(oid, *item[1:]) for item in items],
                )
        conn.commit()
    finally:
        conn.close()
    return {"updated_ids": ids, "inserted_ids": new_ids}
