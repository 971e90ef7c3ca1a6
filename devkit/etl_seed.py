"""Deterministic source data for scenario 3: ``categories``, ``products``, ``promotions``, ``orders``,
``order_items`` in MySQL/MariaDB, at any size (``bridge seed etl --rows N --seed S``).

Compatible with scenario 1 (``devkit.catalog_seed``): ``categories`` and ``promotions`` have its columns, and
``products`` has its eight columns first, then ``description`` (TEXT), ``weight_kg`` (DECIMAL(10,3)) and
``created_at`` (DATETIME(6)); scenario 1 reads only its own columns, so its pipelines run on this source.
Seeding replaces all five tables.

The same ``(rows, seed, orders, anchor)`` always gives byte-identical tables: one ``random.Random(seed)``
per table, values drawn in a fixed order, decimals built from integers. Rows are generated and loaded in
chunks (``LOAD DATA LOCAL INFILE`` of a temporary file), so memory stays flat at any size.

Realistic and awkward on purpose: decimals of several scales, naive DATETIME(6) with microseconds, a
TIMESTAMP(6) column (an instant), NULLs, empty strings, the string ``'NULL'``, unicode (accents, CJK,
Arabic, 4-byte emoji, combining marks), and text with tabs, newlines, CR/LF and backslashes.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pymysql

from devkit.catalog_seed import (
    CATEGORIES,
    CATEGORIES_DDL,
    DEFAULT_ANCHOR,
    PROMOTIONS_DDL,
    UNKNOWN_CATEGORY_ID,
)
from pipelines.adapters.db import DatabaseUrl, ensure_source_database, quote_mysql, source_url
from pipelines.errors import DatabaseUrlError

CHUNK_ROWS = 50_000
STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")
CURRENCIES = ("BRL", "USD", "EUR")

#: Text that breaks naive loaders: each appears in descriptions, order notes and gift messages.
TRICKY_TEXT: tuple[str, ...] = (
    "tab\tinside",
    "\ttab first",
    "tab last\t",
    "two\nlines",
    "\n",
    "windows\r\nline",
    "lone\rreturn",
    "back\\slash",
    "C:\\temp\\new\\table",
    "ends with a backslash\\",
    "\\N",
    "\\\\server\\share",
    "NULL",
    "null",
    " ",
    "quote \"double\" and 'single'",
    "emoji 😀🎉 and 緑茶",
    "Ünïcödé façade — naïve crème brûlée",
    "e\u0301 combining",
    "zero\u200bwidth",
    "عربى مرحبا",
    "pipe | semicolon ; comma ,",
    "mixed\t\\t\n\\n",
)
_ADJECTIVES = (
    "Classic",
    "Über",
    "Élégant",
    "Pequeño",
    "Deluxe",
    "Eco",
    "Smart",
    "Mini",
    "Grand",
    "Nordisk",
    "Zoë's",
    "Ultra",
)
_NOUNS = (
    "Headphones",
    "Câmera",
    "Cafetière",
    "Kettle",
    "Dicionário",
    "Puzzle",
    "Kite",
    "Yoga Mat",
    "Garrafa d'Água",
    "Sérum",
    "Açaí Mix",
    "Green Tea 緑茶",
    "Jalapeño Sauce",
    "Planter",
    "Gnome",
)
_PHRASES = (
    "great value",
    "best seller",
    "ships in 24h",
    "edição limitada",
    "nouveau modèle",
    "100% algodão",
    "import, 2 years warranty",
    "fragile: handle with care",
)

_DDL = (
    "DROP TABLE IF EXISTS order_items",
    "DROP TABLE IF EXISTS orders",
    "DROP TABLE IF EXISTS promotions",
    "DROP TABLE IF EXISTS products",
    "DROP TABLE IF EXISTS categories",
    CATEGORIES_DDL,
    """CREATE TABLE products (
        id BIGINT NOT NULL PRIMARY KEY,
        sku VARCHAR(64) NOT NULL,
        name VARCHAR(255) NOT NULL,
        category_id INT NULL,
        cost DECIMAL(12,2) NULL,
        stock INT NOT NULL,
        active TINYINT(1) NOT NULL,
        updated_at DATETIME NOT NULL,
        description TEXT NULL,
        weight_kg DECIMAL(10,3) NULL,
        created_at DATETIME(6) NOT NULL,
        KEY ix_products_updated_at (updated_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""",
    PROMOTIONS_DDL,
    """CREATE TABLE orders (
        id BIGINT NOT NULL PRIMARY KEY,
        customer_id BIGINT NOT NULL,
        status VARCHAR(16) NOT NULL,
        currency CHAR(3) NOT NULL,
        total DECIMAL(14,2) NOT NULL,
        discount_rate DECIMAL(5,4) NULL,
        note TEXT NULL,
        placed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        ship_date DATE NULL,
        updated_at DATETIME(6) NOT NULL,
        KEY ix_orders_updated_at (updated_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""",
    """CREATE TABLE order_items (
        order_id BIGINT NOT NULL,
        line_no SMALLINT NOT NULL,
        product_id BIGINT NOT NULL,
        quantity INT NOT NULL,
        unit_price DECIMAL(12,2) NOT NULL,
        discount_pct DECIMAL(5,2) NULL,
        gift_message VARCHAR(200) NULL,
        PRIMARY KEY (order_id, line_no)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""",
)

_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})
Row = tuple[object, ...]


def tsv_field(value: object) -> str:
    """One value as a ``LOAD DATA`` field (tab-separated, backslash escapes, ``\\N`` for NULL).
    A datetime is written by ``str`` (ISO with a space; microseconds when not zero)."""
    if value is None:
        return "\\N"
    if type(value) is str:
        return value.translate(_ESCAPE)  # type: ignore[attr-defined]
    return str(value)


def _randint(rng: random.Random, low: int, high: int) -> int:
    """``rng.randint`` at a third of its cost (one ``random()`` call); deterministic all the same."""
    return low + int(rng.random() * (high - low + 1))


def _money(cents: int, scale: int = 2) -> str:
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    unit = 10**scale
    return f"{sign}{cents // unit}.{cents % unit:0{scale}d}"


def _text(rng: random.Random, null: float, empty: float, tricky: float) -> str | None:
    draw = rng.random()
    if draw < null:
        return None
    if draw < null + empty:
        return ""
    if draw < null + empty + tricky:
        return rng.choice(TRICKY_TEXT)
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}: {rng.choice(_PHRASES)}"


# -- generators: one row at a time, from one RNG per table --------------------------------------------


def generate_products(rows: int, rng: random.Random, anchor: datetime) -> Iterator[Row]:
    prefixes = {cid: prefix for cid, _, prefix, _ in CATEGORIES}
    for pid in range(1, rows + 1):
        category_id: int | None = _randint(rng, 1, len(CATEGORIES))
        sku = f"{prefixes[category_id]}-{pid:06d}"
        draw = rng.random()
        if draw < 0.02:
            category_id = None
        elif draw < 0.03:
            category_id = UNKNOWN_CATEGORY_ID
        cost_draw = rng.random()
        cost = None if cost_draw < 0.02 else _money(0 if cost_draw < 0.025 else _randint(rng, 100, 5_000_000))
        updated_at = anchor - timedelta(seconds=_randint(rng, 1, 30 * 86_400))
        created_at = updated_at - timedelta(
            days=_randint(rng, 0, 900), microseconds=_randint(rng, 0, 999_999)
        )
        weight = None if rng.random() < 0.05 else _money(_randint(rng, 1, 80_000), 3)
        yield (
            pid,
            sku,
            f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}",
            category_id,
            cost,
            _randint(rng, -5, 500),
            0 if rng.random() < 0.08 else 1,
            updated_at,
            _text(rng, null=0.10, empty=0.04, tricky=0.15),
            weight,
            created_at,
        )


def generate_categories() -> Iterator[Row]:
    for cid, name, _, margin in CATEGORIES:
        yield cid, name, format(margin, "f")


def generate_promotions(rows: int, products: int, rng: random.Random, anchor: datetime) -> Iterator[Row]:
    for pid in range(1, rows + 1):
        valid_from = (anchor + timedelta(days=_randint(rng, -30, 15))).date()
        if products and rng.random() < 0.9:
            product_id, category_id = _randint(rng, 1, products), None
        else:
            product_id, category_id = None, _randint(rng, 1, len(CATEGORIES))
        valid_to = None if rng.random() < 0.2 else valid_from + timedelta(days=_randint(rng, 0, 30))
        yield (
            pid,
            product_id,
            category_id,
            _money(rng.choice((5, 10, 15, 20, 25, 30, 40, 50)) * 100),
            valid_from,
            valid_to,
        )


def _items(rng: random.Random, order_id: int, products: int) -> list[Row]:
    lines = []
    for line_no in range(1, _randint(rng, 1, 5) + 1):
        discount = None if rng.random() < 0.7 else _money(_randint(rng, 1, 5000))
        gift = None if rng.random() < 0.85 else _text(rng, null=0.0, empty=0.2, tricky=0.5)
        lines.append(
            (
                order_id,
                line_no,
                _randint(rng, 1, max(1, products)),
                _randint(rng, 1, 10),
                _money(_randint(rng, 99, 250_000)),
                discount,
                gift,
            )
        )
    return lines


def order_total(items: list[Row]) -> str:
    """Sum of quantity * unit price, less each line's discount, rounded to cents (integer arithmetic)."""
    total = 0
    for _, _, _, quantity, unit_price, discount, _ in items:
        cents = int(str(unit_price).replace(".", "")) * int(str(quantity))
        off = int(str(discount).replace(".", "")) if discount is not None else 0  # percent * 100
        total += (cents * (10_000 - off) + 5_000) // 10_000
    return _money(total)


def generate_orders(
    rows: int, products: int, rng: random.Random, anchor: datetime
) -> Iterator[tuple[Row, list[Row]]]:
    """Orders with their items; ``placed_at`` over the year before ``anchor``, updated up to 20 days later."""
    for oid in range(1, rows + 1):
        items = _items(rng, oid, products)
        placed_at = anchor - timedelta(
            seconds=_randint(rng, 86_400, 365 * 86_400), microseconds=_randint(rng, 0, 999_999)
        )
        room = min(20 * 86_400, int((anchor - placed_at).total_seconds()) - 1)
        updated_at = placed_at + timedelta(
            seconds=_randint(rng, 0, room), microseconds=_randint(rng, 0, 999_999)
        )
        updated_at = min(updated_at, anchor - timedelta(microseconds=oid))  # before the anchor, and spread
        status = rng.choice(STATUSES)
        ship_date = (
            (placed_at + timedelta(days=_randint(rng, 1, 7))).date()
            if status in ("shipped", "delivered")
            else None
        )
        discount_rate = None if rng.random() < 0.6 else _money(_randint(rng, 0, 5000), 4)
        yield (
            (
                oid,
                _randint(rng, 1, max(1, rows // 3)),
                status,
                rng.choice(CURRENCIES),
                order_total(items),
                discount_rate,
                _text(rng, null=0.3, empty=0.1, tricky=0.2),
                placed_at,
                ship_date,
                updated_at,
            ),
            items,
        )


# -- loading ---------------------------------------------------------------------------------------------


def _connect(url: str | None) -> pymysql.connections.Connection:
    parsed = DatabaseUrl.parse(url or source_url())
    if parsed.dialect != "mysql" or not parsed.database:
        raise DatabaseUrlError(f"the source must be a mysql:// URL with a database, got {parsed.render()}")
    conn = pymysql.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=parsed.database,
        charset="utf8mb4",
        autocommit=False,
        local_infile=True,
    )
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
            if self.conn.show_warnings():
                raise RuntimeError(f"{self.table}: LOAD DATA warnings: {self.conn.show_warnings()[:3]}")
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
) -> dict[str, object]:
    """Replace the five source tables with ``rows`` products, ``orders`` orders (default: ``rows``) with
    1-5 items each, and ``promotions`` promotions (default ``rows // 20``), all drawn from ``seed``.

    ``url``: a ``mysql://`` URL (the database is created if missing) or None (``$BRIDGE_SOURCE_URL``).
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
        with conn.cursor() as cur:
            for statement in _DDL:
                cur.execute(statement)
        conn.commit()
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
) -> dict[str, object]:
    """Late changes to the orders, deterministic for the same arguments and source:

    ``updated`` existing orders (any age) get a new status, note, one more unit on line 1, their last line
    removed when they have several, a recomputed total and ``updated_at`` = ``at`` + i microseconds;
    ``inserted`` new orders (ids after the largest) arrive with ``updated_at`` after ``at`` too.
    Returns ``{"updated_ids": [...], "inserted_ids": [...]}``.
    """
    rng = random.Random(f"{seed}:late")
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COALESCE(MAX(id), 0), (SELECT COUNT(*) FROM products) FROM orders")
            max_id, products = (int(v) for v in cur.fetchone())
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
                oid = new_ids[order[0] - 1]  # type: ignore[index]
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
