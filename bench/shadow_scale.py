"""The whole shadow run of ``etl_products`` at scale: both orchestrators, then the table diff.

    .venv/bin/python bench/shadow_scale.py [--rows 1000000 5000000]

Starts a private stack (``bench/private_stack.py``: real Airflow 3 and Prefect 3 with their workers, on free
ports, with source and warehouse databases of its own). For each ``--rows`` size: seeds the source with that
many products (``devkit.etl_seed``, the project's ETL generator; no orders), runs a shadow of
``etl_products`` exactly as ``bridge trigger etl_products --shadow --wait`` does (``bridge.shadow``:
Airflow on the primary target, Prefect on ``shadow_<target>``, at the same time, then every table each
side wrote compared by its key), and then, on the same tables, the diff floor: the full-scan checksum
(``table_checksum``) of both targets' tables, two threads, as ``bench/table_diff.py`` defines it.

It prints each side's time (trigger to observed end), the table diff's time (as the shadow recorded it),
the floor, and the shadow's wall time against the slower side. Goal: wall <= slower side + 1.2 x floor.
Everything it created (stack, databases, history store) is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from private_stack import PrivateStack, private_stack  # noqa: E402

DAG_ID = "etl_products"
TARGET = "scale_etl"
TIMEOUT = 3600.0


def say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


def seed(stack: PrivateStack, rows: int) -> None:
    from devkit.etl_seed import seed_etl

    started = time.perf_counter()
    seed_etl(
        stack.source_url,
        rows,
        1,
        orders=0,
        promotions=0,
        progress=lambda table, n: n % 1_000_000 == 0 and say(f"  {table}: {n:,} rows"),
    )
    say(f"seeded {rows:,} products in {time.perf_counter() - started:.0f} s")


def floor(stack: PrivateStack, targets: tuple[str, str], tables: dict[str, list[str]]) -> float:
    """Seconds for the full-scan checksum of every compared table of both targets (two threads)."""
    from bridge.compare.model import TableSide
    from bridge.compare.tables import table_checksum

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(
                lambda t=target: [
                    table_checksum(TableSide(stack.warehouse_url, t, n), k) for n, k in tables.items()
                ]
            )
            for target in targets
        ]
        sums = [f.result() for f in futures]
    if sums[0] != sums[1]:
        say(f"warning: the targets' checksums differ: {sums}")
    return time.perf_counter() - started


def shadow_once(stack: PrivateStack, store: Any, rows: int) -> dict[str, Any]:
    from bridge import config, shadow
    from bridge.operations import Backends, Credentials

    catalog = config.load(REPO / "bridge.toml", env=stack.env)
    backends = Backends(catalog, Credentials(password=stack.settings.airflow_password), env=stack.env)
    entry = catalog.entry(DAG_ID)
    conf = {"business_date": "2024-12-31", "target": TARGET}
    say(f"shadow run of {DAG_ID} on {rows:,} rows ...")
    result = shadow.run_and_record(
        store, backends, DAG_ID, conf, origin="manual", timeout=TIMEOUT, unpause=True, say=say
    )
    tables = {t.table: list(t.key) for t in entry.shadow.tables}
    diff_s = sum(t.seconds or 0.0 for t in result.tables)
    targets = (TARGET, entry.shadow.shadow_target(TARGET))
    floor_s = floor(stack, targets, tables)
    sides = [result.primary.elapsed_s or 0.0, result.shadow.elapsed_s or 0.0]
    return {
        "rows": rows,
        "verdict": result.verdict_line,
        "airflow_s": sides[0],
        "prefect_s": sides[1],
        "diff_s": diff_s,
        "floor_s": floor_s,
        "wall_s": result.wall_s,
        "over_slower_s": result.wall_s - max(sides),
        "goal_met": result.wall_s <= max(sides) + 1.2 * floor_s,
        "table_rows": {t.table: (t.airflow_rows, t.prefect_rows) for t in result.tables},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    args = parser.parse_args()

    from bridge.store import Store

    results = []
    with tempfile.TemporaryDirectory(prefix="shadow-scale-") as tmp, private_stack() as stack:
        store = Store(f"sqlite:///{tmp}/history.db")
        for rows in args.rows:
            seed(stack, rows)
            results.append(shadow_once(stack, store, rows))
            say(json.dumps(results[-1]))
    print(
        f"\nshadow of {DAG_ID} through Airflow 3 and Prefect 3 (private stack), goal: wall <= slower + 1.2 x floor"
    )
    print(
        f"{'rows':>10}{'airflow s':>11}{'prefect s':>11}{'diff s':>9}{'floor s':>9}{'wall s':>9}"
        f"{'wall-slower':>13}{'goal':>6}  verdict"
    )
    for r in results:
        print(
            f"{r['rows']:>10,}{r['airflow_s']:>11.1f}{r['prefect_s']:>11.1f}{r['diff_s']:>9.1f}{r['floor_s']:>9.1f}"
            f"{r['wall_s']:>9.1f}{r['over_slower_s']:>13.1f}{'met' if r['goal_met'] else 'NOT':>6}  {r['verdict']}"
        )
    return 0 if all(r["goal_met"] and r["verdict"].startswith("match") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
