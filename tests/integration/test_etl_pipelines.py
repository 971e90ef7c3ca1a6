"""Scenario 3's loader against the real MariaDB (source) and PostgreSQL (warehouse), no orchestrator:
every table through both readers, incremental merges, reruns, a loader killed mid-load, the seed.
Type fidelity case by case: ``test_etl_fidelity``.

Databases of their own (random names, dropped at teardown); a target schema per test (``conftest.py``).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from psycopg import sql

from devkit.etl_seed import DEFAULT_ANCHOR, late_order_updates, seed_etl
from pipelines.adapters import db
from pipelines.adapters.mysql_extract import ExtractConfig
from pipelines.etl.tables import ALL_TABLES, BY_NAME, ORDER_ITEMS, ORDERS, PRODUCTS
from pipelines.jobs.etl import etl_orders, etl_products, full_migration_weekly, prepare_etl_target
from tests.integration.etl_helpers import (
    DAY,
    READERS,
    dump,
    orders_since,
    schema_tables,
    source_rows,
    state,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


# -- every table, every value ------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", READERS)
def test_full_migration_copies_every_value_of_every_table(
    source: str, warehouse: str, target: str, reader: str
) -> None:
    summary = full_migration_weekly(source, warehouse, target, DAY, extract=ExtractConfig(reader, 64 * 1024))
    for table in ALL_TABLES:
        assert dump(warehouse, target, table) == source_rows(source, table), table.name
    assert summary["rows_total"]["products"] == 1500
    assert summary["rows_read"] == summary["rows_written"] == sum(summary["rows_total"].values())
    assert set(summary["checksums"]) == {t.name for t in ALL_TABLES}
    assert summary["watermark_before"] == {"products": None, "orders": None}
    assert summary["watermark_after"]["orders"] == max(r[9] for r in source_rows(source, ORDERS)).isoformat()


def test_both_readers_and_any_chunk_size_give_the_same_target(source: str, warehouse: str) -> None:
    summaries = [
        full_migration_weekly(
            source, warehouse, f"etl_{secrets.token_hex(4)}", DAY, extract=ExtractConfig(reader, chunk)
        )["checksums"]
        for reader, chunk in (("client", 1 << 20), ("client", 1000), ("pymysql", 1 << 20), ("pymysql", 700))
    ]
    assert all(s == summaries[0] for s in summaries)


# -- incremental orders ----------------------------------------------------------------------------------------


def test_incremental_orders_merge_late_updates_and_new_orders(
    scratch: str, warehouse: str, target: str
) -> None:
    seed_etl(scratch, 400, 5)
    first = etl_orders(scratch, warehouse, target, DAY)
    assert first["watermark_before"] == {"orders": None}
    assert first["rows_read_by_table"]["orders"] == 400
    changes = late_order_updates(scratch, updated=25, inserted=7, seed=5)
    second = etl_orders(scratch, warehouse, target, DAY)
    assert second["watermark_before"]["orders"] == first["watermark_after"]["orders"]
    # the changed and new orders, and any still at exactly the old watermark (the bound is inclusive)
    window = orders_since(scratch, first["watermark_after"]["orders"])
    assert set(changes["updated_ids"]) | set(changes["inserted_ids"]) <= window
    assert len(window) - len(changes["updated_ids"]) - len(changes["inserted_ids"]) <= 1
    assert second["rows_read_by_table"]["orders"] == second["rows_written_by_table"]["orders"] == len(window)
    assert second["watermark_after"]["orders"] > second["watermark_before"]["orders"]
    assert second["rows_total"] == {"orders": 407, "order_items": len(source_rows(scratch, ORDER_ITEMS))}
    assert dump(warehouse, target, ORDERS) == source_rows(scratch, ORDERS)
    assert dump(warehouse, target, ORDER_ITEMS) == source_rows(scratch, ORDER_ITEMS)  # removed lines are gone
    assert len(changes["updated_ids"]) == 25
    third = etl_orders(scratch, warehouse, target, DAY)  # nothing changed: same target, same checksums
    assert third["checksums"] == second["checksums"]
    assert third["rows_read_by_table"]["orders"] == len(
        orders_since(scratch, second["watermark_after"]["orders"])
    )
    reference = f"etl_{secrets.token_hex(4)}"
    assert (
        full_migration_weekly(scratch, warehouse, reference, DAY)["checksums"]["orders"]
        == third["checksums"]["orders"]
    )


def test_the_newest_version_wins_when_the_target_is_ahead(scratch: str, warehouse: str, target: str) -> None:
    seed_etl(scratch, 100, 6)
    etl_orders(scratch, warehouse, target, DAY)
    changes = late_order_updates(scratch, updated=3, inserted=0, seed=6)
    ahead = changes["updated_ids"][0]
    with db.warehouse_connection(warehouse) as conn:  # the target already holds a later version of one order
        conn.execute(
            sql.SQL(
                "UPDATE {} SET status = 'from-the-future', updated_at = '2030-01-01' WHERE id = %s"
            ).format(sql.Identifier(target, "orders")),
            (ahead,),
        )
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE order_id = %s AND line_no > 1").format(
                sql.Identifier(target, "order_items")
            ),
            (ahead,),
        )
        conn.commit()
    kept_items = [r for r in dump(warehouse, target, ORDER_ITEMS) if r[0] == ahead]
    summary = etl_orders(scratch, warehouse, target, DAY)
    orders = {r[0]: r for r in dump(warehouse, target, ORDERS)}
    assert orders[ahead][2] == "from-the-future"
    assert [r for r in dump(warehouse, target, ORDER_ITEMS) if r[0] == ahead] == kept_items
    source = {r[0]: r for r in source_rows(scratch, ORDERS)}
    for oid in changes["updated_ids"][1:]:
        assert orders[oid] == source[oid]
    assert summary["rows_written_by_table"]["orders"] == summary["rows_read_by_table"]["orders"] - 1


# -- reruns and crashes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job", [etl_products, etl_orders, full_migration_weekly])
def test_a_rerun_gives_an_identical_target(source: str, warehouse: str, target: str, job) -> None:  # type: ignore[no-untyped-def]
    first = job(source, warehouse, target, DAY)
    dumps = {t: dump(warehouse, target, BY_NAME[t]) for t in first["checksums"]}
    again = job(source, warehouse, target, DAY)
    assert {t: dump(warehouse, target, BY_NAME[t]) for t in first["checksums"]} == dumps
    assert again["checksums"] == first["checksums"] and again["rows_total"] == first["rows_total"]
    assert not any(name.endswith("__swap") for name in schema_tables(warehouse, target))


_SLOW_LOADER = """
import sys, time
from pipelines.jobs import etl
from pipelines.adapters import loader as etl_load
original = etl_load.to_pg_copy
def slow(chunk):
    print("chunk", flush=True)
    time.sleep(0.05)
    return original(chunk)
etl_load.to_pg_copy = slow
getattr(etl, sys.argv[1])(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
print("done", flush=True)
"""


def _kill_mid_load(job: str, source: str, warehouse: str, target: str) -> None:
    """Run ``job`` in a subprocess slowed to small chunks; SIGKILL it once its COPY is under way."""
    env = {**os.environ, "BRIDGE_ETL_CHUNK_BYTES": "4096", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_LOADER, job, source, warehouse, target, DAY],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        chunks = 0
        while chunks < 4:
            line = proc.stdout.readline()
            assert line, f"loader ended early: {proc.stderr.read() if proc.stderr else ''}"
            chunks += line.strip() == "chunk"
        with db.warehouse_connection(warehouse) as conn:  # a COPY into this database is in progress
            copying = conn.execute(
                "SELECT pid FROM pg_stat_progress_copy WHERE datname = current_database()"
            ).fetchall()
        assert copying, "no COPY in progress when the loader was killed"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            pipe.close()
    with db.warehouse_connection(warehouse) as conn:  # its backend notices the dead client and rolls back
        deadline = time.monotonic() + 30
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", ([r[0] for r in copying],)
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the killed loader's session never ended"
            time.sleep(0.2)


@pytest.mark.parametrize("job", ["full_migration_weekly", "etl_orders"])
def test_a_loader_killed_mid_load_leaves_the_target_as_before_and_a_rerun_completes_it(
    scratch: str, warehouse: str, target: str, job: str
) -> None:
    run = {"full_migration_weekly": full_migration_weekly, "etl_orders": etl_orders}[job]
    seed_etl(scratch, 1200, 21)
    run(scratch, warehouse, target, DAY)
    tables = [t for t in ALL_TABLES if job == "full_migration_weekly" or t in (ORDERS, ORDER_ITEMS)]
    before = {t.name: dump(warehouse, target, t) for t in tables}
    state_before = state(warehouse, target)
    if job == "full_migration_weekly":
        seed_etl(scratch, 1300, 22)  # a new source: every table changes
    else:
        late_order_updates(scratch, updated=300, inserted=200, seed=22)

    _kill_mid_load(job, scratch, warehouse, target)

    assert {t.name: dump(warehouse, target, t) for t in tables} == before
    assert state(warehouse, target) == state_before
    assert not any(n.endswith("__swap") for n in schema_tables(warehouse, target))
    rerun = run(scratch, warehouse, target, DAY)
    for table in tables:
        assert dump(warehouse, target, table) == source_rows(scratch, table), table.name
    reference = f"etl_{secrets.token_hex(4)}"
    prepare_etl_target(warehouse, reference)
    assert (
        full_migration_weekly(scratch, warehouse, reference, DAY)["checksums"][ORDERS.name]
        == rerun["checksums"][ORDERS.name]
    )


# -- the seed ---------------------------------------------------------------------------------------------------


def test_seed_is_deterministic_and_scenario_1_runs_on_it(scratch: str, warehouse: str, target: str) -> None:
    from pipelines.jobs.prices import update_prices
    from pipelines.jobs.products import process_products

    first = seed_etl(scratch, 300, 9)
    dump_first = source_rows(scratch, PRODUCTS)
    second = seed_etl(scratch, 300, 9)
    assert first == second and source_rows(scratch, PRODUCTS) == dump_first
    assert seed_etl(scratch, 300, 10)["checksum"] != first["checksum"]
    assert first["rows"]["products"] == 300 and first["rows"]["orders"] == 300
    assert first["rows"]["order_items"] >= 300 and first["rows"]["promotions"] == 15
    seed_etl(scratch, 300, 9)
    processed = process_products(
        scratch, warehouse, target, None, (DEFAULT_ANCHOR - timedelta(days=1)).date()
    )
    assert processed["rows_read"] == 300
    priced = update_prices(scratch, warehouse, target, (DEFAULT_ANCHOR - timedelta(days=1)).date())
    assert priced["rows_written"] > 0
