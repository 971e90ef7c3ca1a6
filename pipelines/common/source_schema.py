"""The MySQL source tables the legacy jobs read, defined once: both dev seeders create them from here.

Scenario 1 reads ``categories``, ``products`` and ``promotions``; scenario 3 moves those and ``orders``
and ``order_items``, and reads three more product columns (``PRODUCT_DETAIL_COLUMNS``). A seeder asks for
the tables it fills (``create_statements``) and may leave those product columns out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

__all__ = ["PRODUCT_DETAIL_COLUMNS", "SOURCE_TABLES", "create_statements"]

_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

#: table -> its column and key definitions, in creation order (parents first).
SOURCE_TABLES: dict[str, tuple[str, ...]] = {
    "categories": (
        "id INT NOT NULL PRIMARY KEY",
        "name VARCHAR(100) NOT NULL",
        "margin_pct DECIMAL(5,2) NOT NULL",
    ),
    "products": (
        "id BIGINT NOT NULL PRIMARY KEY",
        "sku VARCHAR(64) NOT NULL",
        "name VARCHAR(255) NOT NULL",
        "category_id INT NULL",
        "cost DECIMAL(12,2) NULL",
        "stock INT NOT NULL",
        "active TINYINT(1) NOT NULL",
        "updated_at DATETIME NOT NULL",
        "description TEXT NULL",
        "weight_kg DECIMAL(10,3) NULL",
        "created_at DATETIME(6) NOT NULL",
        "KEY ix_products_updated_at (updated_at)",
    ),
    "promotions": (
        "id INT NOT NULL PRIMARY KEY",
        "product_id BIGINT NULL",
        "category_id INT NULL",
        "percent_off DECIMAL(5,2) NOT NULL",
        "valid_from DATE NOT NULL",
        "valid_to DATE NULL",
    ),
    "orders": (
        "id BIGINT NOT NULL PRIMARY KEY",
        "customer_id BIGINT NOT NULL",
        "status VARCHAR(16) NOT NULL",
        "currency CHAR(3) NOT NULL",
        "total DECIMAL(14,2) NOT NULL",
        "discount_rate DECIMAL(5,4) NULL",
        "note TEXT NULL",
        "placed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
        "ship_date DATE NULL",
        "updated_at DATETIME(6) NOT NULL",
        "KEY ix_orders_updated_at (updated_at)",
    ),
    "order_items": (
        "order_id BIGINT NOT NULL",
        "line_no SMALLINT NOT NULL",
        "product_id BIGINT NOT NULL",
        "quantity INT NOT NULL",
        "unit_price DECIMAL(12,2) NOT NULL",
        "discount_pct DECIMAL(5,2) NULL",
        "gift_message VARCHAR(200) NULL",
        "PRIMARY KEY (order_id, line_no)",
    ),
}

#: The product columns only scenario 3 reads.
PRODUCT_DETAIL_COLUMNS = ("description", "weight_kg", "created_at")


def create_table(table: str, without: Collection[str] = ()) -> str:
    """``CREATE TABLE`` of one source table, leaving out the columns named in ``without``."""
    lines = [line for line in SOURCE_TABLES[table] if line.split()[0] not in without]
    return f"CREATE TABLE {table} (\n    " + ",\n    ".join(lines) + f"\n) {_OPTIONS}"


def create_statements(tables: Sequence[str], *, without: Collection[str] = ()) -> list[str]:
    """Drop ``tables`` (children first), then create them (parents first).

    The statements destroy what those tables hold: run them only through ``devkit.catalog_seed.replace_tables``,
    which first checks the database is the bridge's own (``pipelines.adapters.ownership.require_owned``)."""
    unknown = set(tables) - set(SOURCE_TABLES)
    if unknown:
        raise ValueError(f"unknown source table(s) {sorted(unknown)}; known: {list(SOURCE_TABLES)}")
    ordered = [t for t in SOURCE_TABLES if t in tables]
    return [f"DROP TABLE IF EXISTS {t}" for t in reversed(ordered)] + [
        create_table(t, without) for t in ordered
    ]
