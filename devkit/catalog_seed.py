"""Deterministic seed of the MySQL products catalogue: ``categories``, ``products``, ``promotions``.

The same ``(rows, seed, anchor)`` always produces byte-identical tables (``random.Random(seed)``, values
drawn in a fixed order, costs built from integer cents). Reseeding drops and recreates the three tables,
in a database the bridge created only (``replace_tables``; ``i_own_this_database`` overrides).

``updated_at`` is spread over the ``HISTORY_DAYS`` days before ``anchor`` (naive, UTC); promotions start
around ``anchor``. Dirty rows, each kind on about the share of products given in ``DIRTY_RATES`` (at
least one product per kind; a product may get several kinds):

- ``messy_sku``: lower case, padding, ``_`` or space separators (normalization repairs it);
- ``messy_name``: padding and repeated spaces (normalization repairs it);
- ``bad_sku``: an SKU no normalization repairs; ``empty_name``: empty or blank name;
- ``null_cost``: NULL cost; ``bad_cost``: zero or negative cost;
- ``negative_stock``; ``unknown_category``: NULL or a category id that does not exist.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from pymysql.connections import Connection as MySQLConnection

from pipelines.adapters import ownership
from pipelines.adapters.db import SourceLike, ensure_source_database, source_connection
from pipelines.common.source_schema import PRODUCT_DETAIL_COLUMNS, create_statements
from pipelines.common.summary import checksum_rows, combine_checksums

DEFAULT_ANCHOR = datetime(2025, 1, 1)
HISTORY_DAYS = 30
UNKNOWN_CATEGORY_ID = 99

#: (id, name, SKU prefix, margin %)
CATEGORIES: tuple[tuple[int, str, str, Decimal], ...] = (
    (1, "Electronics", "ELE", Decimal("25.00")),
    (2, "Home & Kitchen", "HOM", Decimal("40.00")),
    (3, "Books", "BOO", Decimal("15.00")),
    (4, "Toys & Games", "TOY", Decimal("45.00")),
    (5, "Sports", "SPO", Decimal("35.00")),
    (6, "Beauty", "BEA", Decimal("55.00")),
    (7, "Grocery", "GRO", Decimal("12.50")),
    (8, "Garden", "GAR", Decimal("38.00")),
)
_NOUNS = {
    1: ("Headphones", "Charger", "Smartwatch", "Speaker", "Câmera"),
    2: ("Cafetière", "Frying Pan", "Kettle", "Crème Brûlée Torch", "Towel Set"),
    3: ("Cookbook", "Novel", "Atlas", "Dicionário", "Poetry Collection"),
    4: ("Puzzle", "Building Blocks", "Plush Bear", "Kite", "Board Game"),
    5: ("Yoga Mat", "Football", "Racket", "Dumbbell", "Garrafa d'Água"),
    6: ("Shampoo", "Face Cream", "Perfume", "Lip Balm", "Sérum"),
    7: ("Coffee Beans", "Açaí Mix", "Olive Oil", "Jalapeño Sauce", "Green Tea 緑茶"),
    8: ("Hose", "Seed Kit", "Planter", "Shears", "Gnome"),
}
ADJECTIVES = (
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
DIRTY_RATES: dict[str, float] = {
    "messy_sku": 0.08,
    "messy_name": 0.05,
    "bad_sku": 0.01,
    "empty_name": 0.02,
    "null_cost": 0.02,
    "bad_cost": 0.01,
    "negative_stock": 0.02,
    "unknown_category": 0.02,
}
_PERCENTS = (5, 10, 15, 20, 25, 30, 40, 50)

#: Also the scenario-3 source's (``devkit.etl_seed``): both scenarios read these two tables alike.
#: Scenario 1's source tables: the products without the columns only scenario 3 reads.
_DDL = create_statements(("categories", "products", "promotions"), without=PRODUCT_DETAIL_COLUMNS)
_TABLES = {
    "categories": ("id", "name", "margin_pct"),
    "products": ("id", "sku", "name", "category_id", "cost", "stock", "active", "updated_at"),
    "promotions": ("id", "product_id", "category_id", "percent_off", "valid_from", "valid_to"),
}

Product = list[object]  # mutable while dirt is applied, in _TABLES["products"] order


def _cents(value: int) -> Decimal:
    return Decimal(value) / 100


def generate_products(rows: int, rng: random.Random, anchor: datetime) -> list[Product]:
    """Clean products 1..rows, drawn in a fixed order from ``rng``."""
    prefixes = {cid: prefix for cid, _, prefix, _ in CATEGORIES}
    products: list[Product] = []
    for pid in range(1, rows + 1):
        category_id = rng.choice(CATEGORIES)[0]
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(_NOUNS[category_id])}"
        cost = _cents(rng.randint(100, 50_000))
        stock = rng.randint(0, 500)
        active = 0 if rng.random() < 0.08 else 1
        updated_at = anchor - timedelta(seconds=rng.randint(1, HISTORY_DAYS * 86_400))
        products.append(
            [pid, f"{prefixes[category_id]}-{pid:06d}", name, category_id, cost, stock, active, updated_at]
        )
    return products


def _dirty(kind: str, product: Product, rng: random.Random) -> None:
    if kind == "messy_sku":
        sku = str(product[1])
        product[1] = rng.choice((sku.lower(), f"  {sku} ", sku.replace("-", "_"), sku.replace("-", " ")))
    elif kind == "messy_name":
        product[2] = "  " + str(product[2]).replace(" ", "   ") + " "
    elif kind == "bad_sku":
        product[1] = rng.choice(("", "???", "SKU#" + str(product[0])))
    elif kind == "empty_name":
        product[2] = rng.choice(("", "   "))
    elif kind == "null_cost":
        product[4] = None
    elif kind == "bad_cost":
        product[4] = rng.choice((Decimal("0.00"), -_cents(rng.randint(1, 5_000))))
    elif kind == "negative_stock":
        product[5] = -rng.randint(1, 50)
    elif kind == "unknown_category":
        product[3] = rng.choice((None, UNKNOWN_CATEGORY_ID))


def apply_dirt(products: list[Product], rng: random.Random) -> dict[str, int]:
    """Spoil some products in place (kinds in ``DIRTY_RATES`` order); return the count per kind."""
    counts: dict[str, int] = {}
    if not products:
        return counts
    for kind, rate in DIRTY_RATES.items():
        chosen = sorted(rng.sample(range(len(products)), max(1, round(len(products) * rate))))
        for index in chosen:
            _dirty(kind, products[index], rng)
        counts[kind] = len(chosen)
    return counts


def generate_promotions(rows: int, rng: random.Random, anchor: date) -> list[tuple[object, ...]]:
    """Promotions: one fixed open-ended 5 % on Grocery, then about one per ten products (3 % of them
    short category-wide sales)."""
    promotions: list[tuple[object, ...]] = [
        (1, None, 7, Decimal("5.00"), anchor - timedelta(days=14), None),
    ]
    for pid in range(2, max(2, rows // 10) + 2):
        valid_from = anchor + timedelta(days=rng.randint(-HISTORY_DAYS, 15))
        if rows and rng.random() < 0.97:  # on one product, sometimes open-ended
            product_id, category_id = rng.randint(1, rows), None
            percent = rng.choice(_PERCENTS)
            valid_to = None if rng.random() < 0.2 else valid_from + timedelta(days=rng.randint(0, 30))
        else:  # a short, small category-wide sale
            product_id, category_id = None, rng.choice(CATEGORIES)[0]
            percent = rng.choice(_PERCENTS[:3])
            valid_to = valid_from + timedelta(days=rng.randint(0, 7))
        promotions.append(
            (pid, product_id, category_id, Decimal(percent).quantize(Decimal("0.01")), valid_from, valid_to)
        )
    return promotions


def replace_tables(
    conn: MySQLConnection, statements: list[str], *, i_own_this_database: bool = False
) -> None:
    """Run a seeder's ``DROP TABLE`` / ``CREATE TABLE`` statements (``source_schema.create_statements``),
    and commit; first refuse (``NotOwnedError``) unless the connection's database is the bridge's own or
    ``i_own_this_database`` says the caller owns it."""
    ownership.require_owned(conn, "drop and recreate tables in", override=i_own_this_database)
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.commit()


def seed_products(
    conn_or_url: SourceLike,
    rows: int,
    seed: int,
    *,
    anchor: datetime = DEFAULT_ANCHOR,
    i_own_this_database: bool = False,
) -> dict[str, object]:
    """Replace the catalogue with ``rows`` products generated from ``seed``; return a summary.

    ``conn_or_url``: an open pymysql connection, a ``mysql://`` URL (the database is created if missing)
    or ``None`` (``$BRIDGE_SOURCE_URL``); a database the bridge did not create is refused unless
    ``i_own_this_database`` (``replace_tables``). The summary holds the row counts per table, the count per dirty
    kind, and ``checksum``: the sha256 of the three tables as read back (``pipelines.common.summary``).
    """
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    rng = random.Random(seed)
    products = generate_products(rows, rng, anchor)
    dirty = apply_dirt(products, rng)
    promotions = generate_promotions(rows, rng, anchor.date())
    categories = [(cid, name, margin) for cid, name, _, margin in CATEGORIES]
    if not isinstance(conn_or_url, MySQLConnection):
        ensure_source_database(conn_or_url)
    with source_connection(conn_or_url) as conn:
        replace_tables(conn, _DDL, i_own_this_database=i_own_this_database)
        with conn.cursor() as cur:
            for table, values in (
                ("categories", categories),
                ("products", products),
                ("promotions", promotions),
            ):
                columns = _TABLES[table]
                cur.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
                    values,
                )
        conn.commit()
        checksums = {table: source_checksum(conn, table) for table in _TABLES}
    return {
        "seed": seed,
        "rows": rows,
        "anchor": anchor.isoformat(),
        "categories": len(categories),
        "products": len(products),
        "promotions": len(promotions),
        "dirty": dirty,
        "checksum": combine_checksums(checksums),
    }


def source_checksum(conn: MySQLConnection, table: str) -> str:
    """Checksum of one seeded table as stored in MySQL (rows ordered by id)."""
    columns = _TABLES[table]
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")
        rows = cur.fetchall()
    conn.commit()
    return checksum_rows(columns, rows)
