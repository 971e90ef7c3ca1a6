"""Scenario 3's ETLs: a watermark at wall-clock time, an increment that ignores its watermark, a missing and
an extra table, each a mismatch naming the value, table and keys; the shipped incremental port against a
primary target holding a watermark and history, and a port listing its tables in another order where the
order is declared irrelevant, each a match."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.compare.model import MATCH, MISMATCH, ONLY_AIRFLOW, json_value

DAY = "2024-12-31"
LATE = 40  # orders the next increment reads (of the 300 seeded): 39 updated since the last one, and its last


def _source_one(case: Any, query: str) -> Any:
    from pipelines.adapters.db import connect_source

    conn = connect_source(case.urls["BRIDGE_SOURCE_URL"])
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            (row,) = cur.fetchall()
        return row[0]
    finally:
        conn.close()


def _history_with_a_watermark(case: Any) -> Any:
    """The primary target as an earlier increment left it: the orders updated up to its watermark ``W`` (the
    ``LATE``-th newest ``updated_at``), with their items, and ``etl_state`` at ``W``: the next increment
    reads the ``LATE`` orders from ``W`` on (``W`` itself again: the bound is inclusive). Returns ``W``."""
    from pipelines.jobs.etl import etl_orders

    etl_orders(case.urls["BRIDGE_SOURCE_URL"], case.urls["BRIDGE_WAREHOUSE_URL"], case.primary, DAY)
    t = f'"{case.primary}"'
    ((mark,),) = case.sql(
        f"SELECT updated_at FROM {t}.orders ORDER BY updated_at DESC OFFSET {LATE - 1} LIMIT 1"
    )
    case.sql(
        f"DELETE FROM {t}.order_items i USING {t}.orders o WHERE o.id = i.order_id AND o.updated_at > %s",
        (mark,),
    )
    case.sql(f"DELETE FROM {t}.orders WHERE updated_at > %s", (mark,))
    case.sql(
        f"UPDATE {t}.etl_state SET watermark = %s WHERE table_name IN ('orders', 'order_items')", (mark,)
    )
    return mark


def _history_then(port: str | None) -> Any:
    def scenario(case: Any, _: Any) -> Any:
        mark = _history_with_a_watermark(case)
        return mark, case.shadow("etl_orders", {"business_date": DAY}, port=port)

    return scenario


def _etl(dag_id: str, port: str, **shadow_changes: Any) -> Any:
    return lambda case, _: case.shadow(dag_id, {"business_date": DAY}, port=port, **shadow_changes)


UNORDERED = "tasks.prepare_target.value.tables"
SCENARIOS = {
    "orders_wallclock_watermark": _etl("etl_orders", "orders_wallclock_watermark"),
    "orders_incremental_history": _history_then(None),
    "orders_ignore_watermark": _history_then("orders_ignore_watermark"),
    "products_no_categories": _etl("etl_products", "products_no_categories"),
    "products_backup_table": _etl("etl_products", "products_backup_table"),
    "products_reordered_tables": _etl("etl_products", "products_reordered_tables", unordered=(UNORDERED,)),
}


@pytest.mark.divergent("orders_wallclock_watermark")
def test_a_watermark_at_wall_clock_time_is_a_mismatch(ran: Any) -> None:
    """The returned ``watermark_after`` is a timestamp, compared as any value; ``etl_state``, which no
    catalog entry declares, is compared as any table and names the row."""
    case, result = ran
    assert result.verdict == MISMATCH, case.explain(result)
    newest = _source_one(case, "SELECT MAX(updated_at) FROM orders")
    mark = case.difference(result, "result.watermark_after.orders")
    assert mark.airflow == newest.isoformat() and mark.prefect > mark.airflow, case.explain(result)
    state = case.table(result, "etl_state")
    assert state.changed_count == 1 and state.only_airflow_count == state.only_prefect_count == 0
    (row,) = state.changed
    assert json_value(list(row.key)) == ["orders"] and "watermark" in row.columns, case.explain(result)
    assert case.table(result, "orders").equal and case.table(result, "order_items").equal


@pytest.mark.control("orders_incremental_history")
def test_the_incremental_port_matches_from_the_primary_watermark(ran: Any) -> None:
    case, (_, result) = ran
    assert result.verdict == MATCH, case.explain(result)
    assert result.primary.document is not None
    assert result.primary.document["result"]["rows_read_by_table"]["orders"] == LATE


@pytest.mark.divergent("orders_ignore_watermark")
def test_an_increment_that_ignores_the_watermark_is_a_mismatch(ran: Any) -> None:
    case, (mark, result) = ran
    assert result.verdict == MISMATCH, case.explain(result)
    total = _source_one(case, "SELECT COUNT(*) FROM orders")
    read = case.difference(result, "result.rows_read_by_table.orders")
    assert (read.airflow, read.prefect) == (LATE, total), case.explain(result)
    before = [d for d in result.differences if d.path.startswith("result.watermark_before")]
    assert before == [], f"both started from the primary's watermark {mark}\n{case.explain(result)}"


@pytest.mark.divergent("products_no_categories")
def test_a_missing_table_is_a_mismatch(ran: Any) -> None:
    case, result = ran
    assert result.verdict == MISMATCH, case.explain(result)
    categories = case.table(result, "categories")
    assert categories.present == "airflow" and not categories.equal, case.explain(result)
    assert case.table(result, "products").equal
    assert case.difference(result, "result.rows_read_by_table.categories").kind == ONLY_AIRFLOW


@pytest.mark.divergent("products_backup_table")
def test_an_extra_table_is_a_mismatch(ran: Any) -> None:
    case, result = ran
    assert result.verdict == MISMATCH, case.explain(result)
    backup = case.table(result, "products_backup")
    assert backup.present == "prefect" and not backup.equal, case.explain(result)
    assert case.table(result, "products").equal and case.table(result, "categories").equal


@pytest.mark.control("products_reordered_tables")
def test_a_reordered_list_declared_unordered_matches(ran: Any) -> None:
    case, result = ran
    assert result.verdict == MATCH, case.explain(result)
    lists = [side.document["tasks"]["prepare_target"]["value"]["tables"] for side in result.sides()]
    assert lists[0] != lists[1] and sorted(lists[0]) == sorted(lists[1]), lists  # the order really differs
