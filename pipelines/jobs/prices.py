"""``update_prices``: the day's price of every active product, one row per product per business date.

Reads the catalogue as it is when the run reads it (categories with their margins, products, promotions
active on the business date), prices each active product with a valid cost by the rules of
``pipelines.cron.pricing``, and upserts ``<target>.price_history`` on ``(product_id, business_date)``.
Products with a NULL, zero or negative cost are skipped and counted (``skipped_invalid_cost``), as are
inactive products (``skipped_inactive``). No column holds the run time: a rerun for the same date over
the same catalogue writes the same rows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg

from pipelines.adapters.db import (
    SourceLike,
    WarehouseLike,
    ensure_warehouse_database,
    source_connection,
    warehouse_connection,
)
from pipelines.adapters.warehouse import prepare_target, upsert_rows
from pipelines.common.business_date import parse_business_date
from pipelines.common.summary import build_summary
from pipelines.common.tables import TableSpec
from pipelines.common.targets import validate_target
from pipelines.cron.pricing import DEFAULT_MARGIN_PCT, Promotion, PromotionIndex, compute_price, valid_cost
from pipelines.cron.validation import normalize_cost, normalize_sku

WORKFLOW = "update_prices_daily"

PRICE_HISTORY = TableSpec(
    name="price_history",
    columns=(
        ("product_id", "BIGINT NOT NULL"),
        ("business_date", "DATE NOT NULL"),
        ("sku", "VARCHAR(256) NOT NULL"),
        ("category_id", "INTEGER"),
        ("cost", "NUMERIC(12,2) NOT NULL"),
        ("margin_pct", "NUMERIC(5,2) NOT NULL"),
        ("promotion_id", "INTEGER"),
        ("discount_pct", "NUMERIC(5,2) NOT NULL"),
        ("price", "NUMERIC(12,2) NOT NULL"),
    ),
    key=("product_id", "business_date"),
)

_PRODUCTS = "SELECT id, sku, category_id, cost, active FROM products ORDER BY id"
_CATEGORIES = "SELECT id, margin_pct FROM categories"
_PROMOTIONS = """
    SELECT id, product_id, category_id, percent_off, valid_from, valid_to FROM promotions
    WHERE valid_from <= %s AND (valid_to IS NULL OR valid_to >= %s) ORDER BY id
"""

CatalogueRow = tuple[int, str | None, int | None, Decimal | None, int]


def prepare_prices_target(warehouse: WarehouseLike, target: str) -> dict[str, object]:
    """Create the warehouse database (given a URL), the target schema and ``price_history`` if missing;
    return ``{"target", "tables"}``."""
    target = validate_target(target)
    if not isinstance(warehouse, psycopg.Connection):
        ensure_warehouse_database(warehouse)
    with warehouse_connection(warehouse) as conn:
        return prepare_target(conn, target, (PRICE_HISTORY,))


def read_catalogue(
    source: SourceLike, day: date
) -> tuple[list[CatalogueRow], dict[int, Decimal], list[Promotion]]:
    """Products, ``{category_id: margin_pct}`` and the promotions active on ``day``."""
    with source_connection(source) as conn:
        with conn.cursor() as cur:
            cur.execute(_PRODUCTS)
            products = list(cur.fetchall())
            cur.execute(_CATEGORIES)
            margins = {int(cid): Decimal(margin) for cid, margin in cur.fetchall()}
            cur.execute(_PROMOTIONS, (day, day))
            promotions = [
                Promotion(
                    id=r[0],
                    product_id=r[1],
                    category_id=r[2],
                    percent_off=Decimal(r[3]),
                    valid_from=r[4],
                    valid_to=r[5],
                )
                for r in cur.fetchall()
            ]
        conn.commit()
    return products, margins, promotions


def price_rows(
    products: list[CatalogueRow], margins: dict[int, Decimal], promotions: list[Promotion], day: date
) -> tuple[list[tuple[object, ...]], dict[str, int]]:
    """``price_history`` rows for ``day`` and the counts of what was skipped or special (linear in
    products + promotions: the promotions are indexed once, see ``PromotionIndex``)."""
    index = PromotionIndex.build(promotions, day)
    counts = {"skipped_invalid_cost": 0, "skipped_inactive": 0, "promoted": 0, "default_margin": 0}
    rows: list[tuple[object, ...]] = []
    for product_id, sku, category_id, raw_cost, active in products:
        cost = normalize_cost(raw_cost)
        if cost is None or not valid_cost(cost):
            counts["skipped_invalid_cost"] += 1
            continue
        if not active:
            counts["skipped_inactive"] += 1
            continue
        margin = margins.get(category_id) if category_id is not None else None
        if margin is None:
            margin = DEFAULT_MARGIN_PCT
            counts["default_margin"] += 1
        promotion = index.best(product_id, category_id)
        discount = promotion.percent_off if promotion else Decimal("0.00")
        if promotion is not None:
            counts["promoted"] += 1
        rows.append(
            (
                product_id,
                day,
                normalize_sku(sku),
                category_id,
                cost,
                margin,
                promotion.id if promotion else None,
                discount,
                compute_price(cost, margin, discount),
            )
        )
    return rows, counts


def update_prices(
    source: SourceLike, warehouse: WarehouseLike, target: str, business_date: date | str
) -> dict[str, object]:
    """Write the prices of ``business_date`` into ``<target>.price_history``; return the summary.

    Summary keys: workflow, business_date, target, products_read, rows_written, skipped_invalid_cost,
    skipped_inactive, promoted, default_margin, promotions_active, checksum (of the rows as written).
    """
    target = validate_target(target)
    day = parse_business_date(business_date)
    if day is None:
        raise ValueError("business_date is required")
    products, margins, promotions = read_catalogue(source, day)
    rows, counts = price_rows(products, margins, promotions, day)
    with warehouse_connection(warehouse) as conn:
        prepare_target(conn, target, (PRICE_HISTORY,))
        written = upsert_rows(conn, target, PRICE_HISTORY, rows)
    counts.update(products_read=len(products), rows_written=written.rows, promotions_active=len(promotions))
    return build_summary(WORKFLOW, day, target, counts=counts, checksum=written.checksum)
