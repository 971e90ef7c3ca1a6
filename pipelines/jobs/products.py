"""``process_products``: new or changed products since the watermark, normalized, validated, upserted.

Window. A run for business date D reads the source products with ``since <= updated_at < D+1 00:00``
(``updated_at`` is naive UTC, like the hourly schedule). ``since`` is, first match wins:

1. the ``since`` argument;
2. the ``since`` recorded by an earlier run for the same D (so every run for D, and every rerun, reads
   the same window: same source data, same rows written);
3. the high-water mark (largest ``updated_at`` read) of the latest run for a date before D;
4. nothing: a full load of everything before D+1.

The watermarks live in the target (``<target>.etl_watermarks``), so a shadow target keeps its own.
``since`` is inclusive: rows exactly at the high-water mark are read again next time (harmless, the
write is an upsert) instead of being missed when another row lands in the same second.

Write. Every row read is upserted by ``product_id`` into ``<target>.processed_products``, valid or not
(``is_valid``, ``reject_reason``). No column holds the run time, so identical inputs give identical rows.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import psycopg
from psycopg import sql

from pipelines.adapters.db import (
    SourceLike,
    WarehouseLike,
    ensure_warehouse_database,
    source_connection,
    warehouse_connection,
)
from pipelines.adapters.warehouse import prepare_target, qualified, upsert_rows
from pipelines.common.business_date import parse_business_date
from pipelines.common.summary import build_summary
from pipelines.common.tables import TableSpec
from pipelines.common.targets import validate_target
from pipelines.cron.validation import ProcessedProduct, RawProduct, normalize_product

WORKFLOW = "process_products"

PROCESSED_PRODUCTS = TableSpec(
    name="processed_products",
    columns=(
        ("product_id", "BIGINT NOT NULL"),
        ("sku", "VARCHAR(256) NOT NULL"),
        ("name", "VARCHAR(1024) NOT NULL"),  # bytes on Redshift: room for 255 four-byte characters
        ("category_id", "INTEGER"),
        ("category_name", "VARCHAR(400)"),
        ("cost", "NUMERIC(12,2)"),
        ("stock", "INTEGER NOT NULL"),
        ("active", "BOOLEAN NOT NULL"),
        ("source_updated_at", "TIMESTAMP NOT NULL"),
        ("business_date", "DATE NOT NULL"),
        ("is_valid", "BOOLEAN NOT NULL"),
        ("reject_reason", "VARCHAR(256)"),
    ),
    key=("product_id",),
)

WATERMARKS = TableSpec(
    name="etl_watermarks",
    columns=(
        ("workflow", "VARCHAR(128) NOT NULL"),
        ("business_date", "DATE NOT NULL"),
        ("since", "TIMESTAMP"),
        ("until", "TIMESTAMP NOT NULL"),
        ("high_water", "TIMESTAMP"),
        ("rows_read", "INTEGER NOT NULL"),
    ),
    key=("workflow", "business_date"),
)

_EXTRACT = """
    SELECT p.id, p.sku, p.name, p.category_id, c.name, p.cost, p.stock, p.active, p.updated_at
    FROM products p LEFT JOIN categories c ON c.id = p.category_id
    WHERE p.updated_at < %s {since}
    ORDER BY p.id
"""


def prepare_products_target(warehouse: WarehouseLike, target: str) -> dict[str, object]:
    """Create the warehouse database (given a URL), the target schema, ``processed_products`` and
    ``etl_watermarks`` if missing; return ``{"target", "tables"}``."""
    target = validate_target(target)
    if not isinstance(warehouse, psycopg.Connection):
        ensure_warehouse_database(warehouse)
    with warehouse_connection(warehouse) as conn:
        return prepare_target(conn, target, (PROCESSED_PRODUCTS, WATERMARKS))


def window_end(business_date: date) -> datetime:
    """Exclusive upper bound of the window for ``business_date``: the next day at 00:00 (naive UTC)."""
    return datetime.combine(business_date + timedelta(days=1), time())


def parse_since(value: datetime | str | None) -> datetime | None:
    """``since`` as naive UTC (the source's ``updated_at``); ISO strings accepted, aware values converted."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    moment = datetime.fromisoformat(value.strip()) if isinstance(value, str) else value
    if moment.tzinfo is not None and moment.utcoffset() is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def watermark_since(
    conn: psycopg.Connection, target: str, business_date: date, workflow: str = WORKFLOW
) -> datetime | None:
    """The ``since`` of a run for ``business_date`` with no explicit one (rules 2-4 of the module doc)."""
    table = qualified(target, WATERMARKS.name)
    same = conn.execute(
        sql.SQL("SELECT since FROM {} WHERE workflow = %s AND business_date = %s").format(table),
        (workflow, business_date),
    ).fetchone()
    if same is not None:
        conn.commit()
        since: datetime | None = same[0]
        return since
    earlier = conn.execute(
        sql.SQL(
            "SELECT high_water FROM {} WHERE workflow = %s AND business_date < %s "
            "ORDER BY business_date DESC LIMIT 1"
        ).format(table),
        (workflow, business_date),
    ).fetchone()
    conn.commit()
    return earlier[0] if earlier is not None else None


def extract_changed(source: SourceLike, since: datetime | None, until: datetime) -> list[RawProduct]:
    """Products with ``since <= updated_at < until`` (``since`` None: no lower bound), by id."""
    query = _EXTRACT.format(since="AND p.updated_at >= %s" if since is not None else "")
    params = (until, since) if since is not None else (until,)
    with source_connection(source) as conn:
        with conn.cursor() as cur:
            cur.execute(query, params)
            rows = cur.fetchall()
        conn.commit()
    return [
        RawProduct(
            id=r[0],
            sku=r[1],
            name=r[2],
            category_id=r[3],
            category_name=r[4],
            cost=r[5],
            stock=r[6],
            active=bool(r[7]),
            updated_at=r[8],
        )
        for r in rows
    ]


def to_row(product: ProcessedProduct, business_date: date) -> tuple[object, ...]:
    """A processed product as a ``processed_products`` row (column order of the spec)."""
    return (
        product.product_id,
        product.sku,
        product.name,
        product.category_id,
        product.category_name,
        product.cost,
        product.stock,
        product.active,
        product.source_updated_at,
        business_date,
        product.is_valid,
        product.reject_reason,
    )


def process_products(
    source: SourceLike,
    warehouse: WarehouseLike,
    target: str,
    since: datetime | str | None,
    business_date: date | str,
) -> dict[str, object]:
    """Process the products changed in the window of ``business_date`` into ``<target>``; return the summary.

    Summary keys: workflow, business_date, target, rows_read, rows_written, rows_valid, rows_rejected,
    rejected_by_reason ({reason: count}), since (ISO or None), checksum (of the rows as written).
    """
    target = validate_target(target)
    day = parse_business_date(business_date)
    if day is None:
        raise ValueError("business_date is required")
    until = window_end(day)
    with warehouse_connection(warehouse) as conn:
        prepare_target(conn, target, (PROCESSED_PRODUCTS, WATERMARKS))
        start = parse_since(since)
        if start is None:
            start = watermark_since(conn, target, day)
        processed = [normalize_product(raw) for raw in extract_changed(source, start, until)]
        written = upsert_rows(conn, target, PROCESSED_PRODUCTS, [to_row(p, day) for p in processed])
        high_water = max((p.source_updated_at for p in processed), default=start)
        upsert_rows(conn, target, WATERMARKS, [(WORKFLOW, day, start, until, high_water, len(processed))])
    reasons = Counter(code for p in processed if p.reject_reason for code in p.reject_reason.split(","))
    valid = sum(1 for p in processed if p.is_valid)
    return build_summary(
        WORKFLOW,
        day,
        target,
        counts={
            "rows_read": len(processed),
            "rows_written": written.rows,
            "rows_valid": valid,
            "rows_rejected": len(processed) - valid,
        },
        checksum=written.checksum,
        rejected_by_reason=dict(sorted(reasons.items())),
        since=start,
    )
