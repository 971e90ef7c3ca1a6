"""Scenario 3's three ETLs, MySQL -> warehouse, each one transaction on its target (``pipelines.adapters.loader``).

- ``etl_products``: full refresh of the products dimension (``categories`` and ``products``), swapped in.
- ``etl_orders``: incremental by ``orders.updated_at``. The watermark lives in the target
  (``<target>.etl_state``); a run reads the orders with ``updated_at >= watermark`` and all the items
  of those orders, from one snapshot, and merges them: a changed order replaces the stored one unless
  the stored one is newer, and its items are replaced with it (so removed lines disappear). The bound is
  inclusive: the rows at exactly the watermark are read again (harmless: the merge keeps the newest) so a
  row written in the same microsecond as the last one read is never skipped. Deletions in the source are
  not seen by the increment; the weekly full migration puts them right.
- ``full_migration_weekly``: every table (``pipelines.etl.tables.ALL_TABLES``) from one snapshot, swapped in
  together; the orders watermark becomes the largest ``updated_at`` loaded.

A run killed before its commit leaves the target as it was; a rerun over the same source gives the same
target. The summary (the Airflow XCom ``return_value`` and the Prefect flow result) has the run header,
``rows_read`` and ``rows_written`` (totals), ``mode``, per table ``rows_read_by_table``,
``rows_written_by_table``, ``rows_total`` (rows in the target after the run), ``watermark_before`` and
``watermark_after`` (tables with an ``updated_at`` cursor), ``checksums``; and ``checksum`` over them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import psycopg

from pipelines.adapters.db import WarehouseLike, ensure_warehouse_database, warehouse_connection
from pipelines.adapters.loader import STATE, Load, LoadConfig, TableResult, open_load
from pipelines.adapters.mysql_extract import ExtractConfig, Extraction
from pipelines.adapters.warehouse import prepare_target
from pipelines.common.business_date import parse_business_date
from pipelines.common.summary import build_summary, combine_checksums
from pipelines.common.tables import quote_mysql
from pipelines.common.targets import validate_target
from pipelines.common.workflows import workflow
from pipelines.etl.tables import (
    ALL_TABLES,
    ORDER_ITEMS,
    ORDERS,
    EtlTable,
    mysql_datetime_literal,
    tables,
)

#: The tables each ETL workflow writes, as the registry lists them.
WORKFLOW_TABLES: dict[str, tuple[EtlTable, ...]] = {
    name: tables(workflow(name).tables) for name in ("etl_products", "etl_orders", "full_migration_weekly")
}
PRODUCT_TABLES = WORKFLOW_TABLES["etl_products"]
ORDER_TABLES = WORKFLOW_TABLES["etl_orders"]


def prepare_etl_target(
    warehouse: WarehouseLike, target: str, tables: Sequence[EtlTable] = ALL_TABLES
) -> dict[str, object]:
    """Create the warehouse database (given a URL), the target schema, ``tables`` and ``etl_state`` if
    missing; return ``{"target", "tables"}``."""
    target = validate_target(target)
    if not isinstance(warehouse, psycopg.Connection):
        ensure_warehouse_database(warehouse)
    with warehouse_connection(warehouse) as conn:
        return prepare_target(conn, target, [t.spec for t in tables] + [STATE])


def _run(
    workflow: str,
    mode: str,
    source: str | None,
    warehouse: WarehouseLike,
    target: str,
    business_date: date | str,
    plan: Callable[[Load, str | None, ExtractConfig], None],
    extract: ExtractConfig | None,
    load: LoadConfig | None,
) -> dict[str, Any]:
    target = validate_target(target)
    day = parse_business_date(business_date)
    if day is None:
        raise ValueError("business_date is required")
    tables = WORKFLOW_TABLES[workflow]
    config = load or LoadConfig.from_env(warehouse if isinstance(warehouse, str) else None)
    with warehouse_connection(warehouse) as conn:
        prepare_target(conn, target, [t.spec for t in tables] + [STATE])
        with open_load(conn, target, config) as current:
            plan(current, source, extract or ExtractConfig.from_env())
    return summarize(workflow, day, target, mode, [current.results[t.name] for t in tables])


def summarize(
    workflow: str, day: date, target: str, mode: str, results: Sequence[TableResult]
) -> dict[str, Any]:
    """The run summary (see the module doc)."""
    cursors = {t.name for t in ALL_TABLES if t.updated_column}
    checksums = {r.table: r.checksum for r in results}
    return build_summary(
        workflow,
        day,
        target,
        counts={
            "rows_read": sum(r.rows_read for r in results),
            "rows_written": sum(r.rows_written for r in results),
        },
        checksum=combine_checksums(checksums),
        mode=mode,
        rows_read_by_table={r.table: r.rows_read for r in results},
        rows_written_by_table={r.table: r.rows_written for r in results},
        rows_total={r.table: r.rows_total for r in results},
        watermark_before={r.table: r.watermark_before for r in results if r.table in cursors},
        watermark_after={r.table: r.watermark_after for r in results if r.table in cursors},
        checksums=checksums,
    )


def swap_all(tables: Sequence[EtlTable]) -> Callable[[Load, str | None, ExtractConfig], None]:
    """A plan: read ``tables`` from one snapshot and swap each in."""

    def plan(load: Load, source: str | None, extract: ExtractConfig) -> None:
        with Extraction(source, [t.select_sql() for t in tables], extract) as rows:
            for index, table in enumerate(tables):
                load.swap_in(table, rows.result(index))
            rows.finish()

    return plan


def _incremental_orders(load: Load, source: str | None, extract: ExtractConfig) -> None:
    previous = load.state(ORDERS.name)
    watermark = previous[0] if previous else None
    updated_at = quote_mysql(ORDERS.updated_column or "")
    since = "" if watermark is None else f"{{alias}}.{updated_at} >= {mysql_datetime_literal(watermark)}"
    join = f"JOIN {quote_mysql(ORDERS.name)} o ON o.{quote_mysql('id')} = t.{quote_mysql('order_id')}"
    queries = [
        ORDERS.select_sql(where=since.format(alias="t")),
        ORDER_ITEMS.select_sql(where=since.format(alias="o"), joins=join),
    ]
    with Extraction(source, queries, extract) as rows:
        load.stage(ORDERS, rows.result(0))
        load.stage(ORDER_ITEMS, rows.result(1))
        rows.finish()
    load.merge(ORDERS, children=(ORDER_ITEMS, "order_id"))


#: workflow id -> (summary mode, what its load does)
_PLANS: dict[str, tuple[str, Callable[[Load, str | None, ExtractConfig], None]]] = {
    "etl_products": ("full_refresh", swap_all(WORKFLOW_TABLES["etl_products"])),
    "etl_orders": ("incremental", _incremental_orders),
    "full_migration_weekly": ("full_refresh", swap_all(WORKFLOW_TABLES["full_migration_weekly"])),
}


def run_job(
    workflow_id: str,
    source: str | None,
    warehouse: WarehouseLike,
    target: str,
    business_date: date | str,
    *,
    extract: ExtractConfig | None = None,
    load: LoadConfig | None = None,
) -> dict[str, Any]:
    """Run the ETL workflow ``workflow_id`` into ``target``; returns the run summary."""
    mode, plan = _PLANS[workflow_id]
    return _run(workflow_id, mode, source, warehouse, target, business_date, plan, extract, load)


def etl_products(
    source: str | None, warehouse: WarehouseLike, target: str, business_date: date | str, **options: Any
) -> dict[str, Any]:
    """Full refresh of ``categories`` and ``products`` into ``target``; returns the run summary."""
    return run_job("etl_products", source, warehouse, target, business_date, **options)


def etl_orders(
    source: str | None, warehouse: WarehouseLike, target: str, business_date: date | str, **options: Any
) -> dict[str, Any]:
    """The orders (and their items) changed since the target's watermark, merged; returns the summary."""
    return run_job("etl_orders", source, warehouse, target, business_date, **options)


def full_migration_weekly(
    source: str | None, warehouse: WarehouseLike, target: str, business_date: date | str, **options: Any
) -> dict[str, Any]:
    """Every table, one snapshot, swapped in together; returns the run summary."""
    return run_job("full_migration_weekly", source, warehouse, target, business_date, **options)


#: workflow id -> its job: ``job(source, warehouse, target, business_date)``.
JOBS: dict[str, Callable[..., dict[str, Any]]] = {
    "etl_products": etl_products,
    "etl_orders": etl_orders,
    "full_migration_weekly": full_migration_weekly,
}
