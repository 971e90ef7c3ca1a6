"""How close the table diff comes to the cheapest possible check: one checksum scan of each table.

    .venv/bin/python bench/table_diff.py [--rows 1000000] [--runs 3] [--no-reladiff]

Creates two PostgreSQL tables of --rows rows (integer primary key and six columns) in a database of its
own, identical except for one changed row and one missing row, then measures in the same run, alternately
so the machine's drift hits both alike:

- the floor: ``table_checksum`` (count + checksum in one full scan) of both tables at once, in two threads;
- ``diff_tables`` on the same tables, which must find exactly those two keys.

It prints the medians and their ratio (goal: ours <= 1.5 x floor). Then, if ``reladiff`` installs into a
throwaway venv (/tmp/reladiff-venv, never .venv), it times reladiff's cross-database (hashdiff) algorithm
on the same tables as a subprocess. The database is dropped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.compare.model import TableSide  # noqa: E402
from bridge.compare.tables import diff_tables, table_checksum  # noqa: E402
from pipelines.adapters import db  # noqa: E402

RELADIFF_VENV = Path("/tmp/reladiff-venv")
COLUMNS = ["sku", "name", "price", "qty", "updated_at", "active"]
CHANGED_ROW_FRACTION, MISSING_ROW_FRACTION = 0.5, 0.777


def say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


def create_tables(url: str, rows: int) -> tuple[int, int]:
    """Both tables; returns (changed key, missing key)."""
    changed, missing = int(rows * CHANGED_ROW_FRACTION), int(rows * MISSING_ROW_FRACTION)
    with db.connect_warehouse(url) as conn:
        conn.autocommit = True
        for schema in ("airflow_out", "shadow_prefect"):
            conn.execute(f"CREATE SCHEMA {schema}")
            conn.execute(f"""CREATE TABLE {schema}.prices (
                id BIGINT PRIMARY KEY, sku VARCHAR(20) NOT NULL, name TEXT, price NUMERIC(12, 2),
                qty INTEGER, updated_at TIMESTAMP, active BOOLEAN)""")
        say(f"filling airflow_out.prices with {rows:,} rows")
        conn.execute(f"""INSERT INTO airflow_out.prices
            SELECT g, 'SKU-' || lpad(g::text, 8, '0'), CASE WHEN g % 50 = 0 THEN NULL ELSE 'Product ' || g END,
                   (g % 100000) / 100.0, g % 97, TIMESTAMP '2024-01-01' + g * INTERVAL '1 second', g % 3 = 0
            FROM generate_series(1, {rows}) g""")
        say("copying it to shadow_prefect.prices, changing one row and deleting another")
        conn.execute("INSERT INTO shadow_prefect.prices SELECT * FROM airflow_out.prices")
        conn.execute(f"UPDATE shadow_prefect.prices SET price = price + 0.01 WHERE id = {changed}")
        conn.execute(f"DELETE FROM shadow_prefect.prices WHERE id = {missing}")
        say("VACUUM ANALYZE both")
        conn.execute("VACUUM ANALYZE airflow_out.prices")
        conn.execute("VACUUM ANALYZE shadow_prefect.prices")
    return changed, missing


def floor(a: TableSide, p: TableSide) -> tuple[float, tuple[tuple[int, int], tuple[int, int]]]:
    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        fa, fp = (
            pool.submit(table_checksum, a, ["id"], COLUMNS),
            pool.submit(table_checksum, p, ["id"], COLUMNS),
        )
        result = (fa.result(), fp.result())
    return time.perf_counter() - start, result


def reladiff_install() -> tuple[Path | None, str]:
    """reladiff in its own throwaway venv, or why not."""
    exe = RELADIFF_VENV / "bin" / "reladiff"
    try:
        if not (RELADIFF_VENV / "bin" / "python").exists():
            subprocess.run(
                ["python3", "-m", "venv", str(RELADIFF_VENV)], check=True, capture_output=True, timeout=120
            )
        uv = REPO / ".venv" / "bin" / "uv"
        uv_cmd = [str(uv)] if uv.exists() else ([shutil.which("uv")] if shutil.which("uv") else None)
        if uv_cmd is None:
            return None, "no uv to install it with"
        proc = subprocess.run(
            [
                *uv_cmd,
                "pip",
                "install",
                "--python",
                str(RELADIFF_VENV / "bin" / "python"),
                "reladiff[postgresql]",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            return None, "install failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"install failed: {exc}"
    return (exe, "") if exe.exists() else (None, "installed, but no reladiff executable")


def reladiff_run(exe: Path, url: str) -> tuple[float, set[str], str]:
    """Cross-database form (the same URL twice) so reladiff uses hashdiff, its algorithm for two databases.

    --skip-sort-results: reladiff 0.6 sorts its output rows and fails on a NULL next to a string (it logs
    an ERROR, prints nothing and still exits 0); the changed row here has a NULL name."""
    argv = [
        str(exe),
        url,
        "airflow_out.prices",
        url,
        "shadow_prefect.prices",
        "-k",
        "id",
        "-a",
        "hashdiff",
        "--skip-sort-results",
    ]
    for c in COLUMNS:
        argv += ["-c", c]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - start
    keys = set(re.findall(r"^[+-] \(?'?(\d+)'?,", proc.stdout, flags=re.M))
    failed = proc.returncode != 0 or " ERROR " in proc.stderr
    error = (proc.stderr.strip().splitlines() or ["?"])[-1] if failed else ""
    return elapsed, keys, error


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="alternate floor/diff this many times (medians)")
    parser.add_argument("--no-reladiff", action="store_true")
    args = parser.parse_args()

    name = f"bridge_bench_{secrets.token_hex(4)}"
    url = db.DatabaseUrl.parse(db.warehouse_url()).with_database(name).render(hide_password=False)
    shown = db.DatabaseUrl.parse(url).render()
    say(f"database {shown}")
    db.ensure_warehouse_database(url)
    try:
        started = time.perf_counter()
        changed, missing = create_tables(url, args.rows)
        say(
            f"tables ready in {time.perf_counter() - started:.1f} s; changed key {changed}, missing key {missing}"
        )
        a, p = TableSide(url, "airflow_out", "prices"), TableSide(url, "shadow_prefect", "prices")

        floors, ours, diff = [], [], None
        for run in range(1, args.runs + 1):
            seconds, sums = floor(a, p)
            floors.append(seconds)
            say(f"run {run}: floor {seconds:.2f} s (counts {sums[0][0]:,} / {sums[1][0]:,})")
            start = time.perf_counter()
            diff = diff_tables(a, p, ["id"], COLUMNS)
            ours.append(time.perf_counter() - start)
            say(f"run {run}: diff  {ours[-1]:.2f} s ({diff.queries} queries)")
        assert diff is not None
        found_changed = [c.key[0] for c in diff.changed]
        found_missing = [k[0] for k in diff.only_airflow]
        exact = (
            found_changed == [changed]
            and found_missing == [missing]
            and not diff.only_prefect
            and diff.changed_count == 1
            and diff.only_airflow_count == 1
        )
        f, o = statistics.median(floors), statistics.median(ours)
        print()
        print(
            f"rows                  {args.rows:,} per table, {len(COLUMNS)} compared columns, runs {args.runs}"
        )
        print(f"floor (2 checksums)   {f:.2f} s median   ({', '.join(f'{x:.2f}' for x in floors)})")
        print(f"diff_tables           {o:.2f} s median   ({', '.join(f'{x:.2f}' for x in ours)})")
        print(f"ratio                 {o / f:.2f}x   (goal <= 1.5x: {'met' if o / f <= 1.5 else 'NOT met'})")
        print(
            f"keys found            changed {found_changed}, only in airflow {found_missing}, "
            f"only in prefect {[k[0] for k in diff.only_prefect]}: {'exactly right' if exact else 'WRONG'}"
        )
        if args.no_reladiff:
            print("reladiff              skipped (--no-reladiff)")
        else:
            say("installing reladiff into /tmp/reladiff-venv (a throwaway venv)")
            exe, why = reladiff_install()
            if exe is None:
                print(f"reladiff              not measured: {why}")
            else:
                say("running reladiff (hashdiff, 1 thread per database, its defaults)")
                seconds, keys, error = reladiff_run(exe, url)
                if error:
                    print(f"reladiff              failed after {seconds:.2f} s: {error}")
                else:
                    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout
                    version = (re.findall(r"v?(\d+\.\d+\.\d+)", version) or ["?"])[0]
                    print(
                        f"reladiff {version}        {seconds:.2f} s   ({seconds / f:.2f}x floor, hashdiff); "
                        f"keys it reported: {sorted(keys, key=int)}"
                    )
        return 0 if exact else 1
    finally:
        say(f"dropping {name}")
        db.drop_warehouse_database(url)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
