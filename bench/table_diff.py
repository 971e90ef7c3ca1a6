"""How close the table diff comes to the cheapest possible check (one checksum scan of each table), and
whether its memory stays flat, on four kinds of difference.

    .venv/bin/python bench/table_diff.py [--rows 1000000] [--runs 3] [--no-reladiff]

Creates two PostgreSQL tables of --rows rows (integer primary key and six columns) in a database of its
own (filled server-side by ``generate_series``), identical, then four views over the second one, one per
case: one changed row; one missing row; 1,000 changed rows scattered over the key range; one column
changed in every row (``price + 0.01``, a wrong rounding). For each case, alternately so the machine's drift
hits both alike, each in a fresh process whose peak RSS is sampled every 10 ms:

- the floor: ``table_checksum`` (count + checksum in one full scan) of the table and the view at once, in
  two threads;
- ``diff_tables`` on the same pair, which must find exactly those keys (the last case: the column
  ``price`` named in a per-column summary, every sampled row differing, the smallest keys as samples).

It prints per case the medians, their ratio (goal: <= 1.2x the floor), the diff's peak RSS (goal <= 100 MB)
and whether the keys are exact. Then, unless --no-reladiff, if ``reladiff`` installs into a throwaway venv
(/tmp/reladiff-venv, never .venv), it times reladiff's cross-database (hashdiff) algorithm on the first
case as a subprocess. The database is dropped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.adapters import db  # noqa: E402

RELADIFF_VENV = Path("/tmp/reladiff-venv")
COLUMNS = ["sku", "name", "price", "qty", "updated_at", "active"]
CHANGED_ROW_FRACTION, MISSING_ROW_FRACTION = 0.5, 0.777


def say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


CASES = {
    "one changed row": "CASE WHEN id = {changed} THEN qty + 1 ELSE qty END AS qty",
    "one missing row": "WHERE id <> {missing}",
    "1,000 scattered changed rows": "CASE WHEN id % {step} = 7 THEN qty + 1 ELSE qty END AS qty",
    "price changed in every row": "price + 0.01 AS price",
}
GOAL_RATIO, GOAL_RSS_MB = 1.2, 100

RUN = r"""
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from bridge.compare.model import TableSide
from bridge.compare.tables import diff_tables, table_checksum
mode, url, view, columns = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
a, p = TableSide(url, "airflow_out", "prices"), TableSide(url, "shadow_prefect", view)
start = time.perf_counter()
if mode == "floor":
    with ThreadPoolExecutor(2) as pool:
        sums = [f.result() for f in [pool.submit(table_checksum, s, ["id"], columns) for s in (a, p)]]
    print(json.dumps({"seconds": time.perf_counter() - start, "rows": [s.rows for s in sums]}))
else:
    d = diff_tables(a, p, ["id"], columns)
    print(json.dumps({"seconds": time.perf_counter() - start, **d.to_dict()}, default=str))
"""


def create_tables(url: str, rows: int) -> dict[str, object]:
    """Both tables and the four case views; returns what each case changed."""
    changed, missing, step = int(rows * CHANGED_ROW_FRACTION), int(rows * MISSING_ROW_FRACTION), rows // 1000
    with db.connect_warehouse(url) as conn:
        conn.autocommit = True
        for schema in ("airflow_out", "shadow_prefect"):
            conn.execute(f"CREATE SCHEMA {schema}")
            conn.execute(f"""CREATE UNLOGGED TABLE {schema}.prices (
                id BIGINT NOT NULL, sku VARCHAR(20) NOT NULL, name TEXT, price NUMERIC(12, 2),
                qty INTEGER, updated_at TIMESTAMP, active BOOLEAN)""")
        say(f"filling airflow_out.prices with {rows:,} rows")
        conn.execute(f"""INSERT INTO airflow_out.prices
            SELECT g, 'SKU-' || lpad(g::text, 8, '0'), CASE WHEN g % 50 = 0 THEN NULL ELSE 'Product ' || g END,
                   (g % 100000) / 100.0, g % 97, TIMESTAMP '2024-01-01' + g * INTERVAL '1 second', g % 3 = 0
            FROM generate_series(1, {rows}) g""")
        say("copying it to shadow_prefect.prices; primary keys; VACUUM ANALYZE")
        conn.execute("INSERT INTO shadow_prefect.prices SELECT * FROM airflow_out.prices")
        for schema in ("airflow_out", "shadow_prefect"):
            conn.execute(f"ALTER TABLE {schema}.prices ADD PRIMARY KEY (id)")
            conn.execute(f"VACUUM ANALYZE {schema}.prices")
        for i, (case, change) in enumerate(CASES.items()):
            change = change.format(changed=changed, missing=missing, step=step)
            if change.startswith("WHERE"):
                select, where = ", ".join(["id", *COLUMNS]), change
            else:
                column = change.rsplit(" AS ", 1)[1]
                select, where = ", ".join(["id", *(change if c == column else c for c in COLUMNS)]), ""
            conn.execute(
                f"CREATE VIEW shadow_prefect.case{i} AS SELECT {select} FROM shadow_prefect.prices {where}"
            )
            say(f"view shadow_prefect.case{i}: {case}")
    scattered = [k for k in range(1, rows + 1) if k % step == 7] if step else []
    return {"changed": changed, "missing": missing, "scattered": scattered}


def measure(mode: str, url: str, view: str) -> dict[str, object]:
    """One floor or diff in a fresh process: its result, time and peak RSS (sampled every 10 ms)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN, mode, url, view, ",".join(COLUMNS)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    peak, ps = 0.0, psutil.Process(proc.pid)
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, ps.memory_info().rss / (1 << 20))
        time.sleep(0.01)
    out, err = proc.communicate()
    if proc.returncode:
        sys.exit(f"bench: {mode} on {view} failed:\n{err[-2000:]}")
    return {**json.loads(out.strip().splitlines()[-1]), "rss_mb": peak}


def exact(case: str, d: dict[str, Any], truth: dict[str, Any]) -> tuple[bool, str]:
    """Whether the diff found exactly what the case changed, and what it found, in words."""
    changed = [k[0] for k in (c["key"] for c in d["changed"])]
    only_a, only_p = [k[0] for k in d["only_airflow"]], [k[0] for k in d["only_prefect"]]
    by_column = d["by_column"]
    if case == "one changed row":
        ok = changed == [truth["changed"]] and d["rows_differing"] == 1
        return ok, f"changed {changed} ({', '.join(c for r in d['changed'] for c in r['columns'])})"
    if case == "one missing row":
        ok = only_a == [truth["missing"]] and d["rows_differing"] == 1 and not only_p
        return ok, f"only in airflow {only_a}"
    if case == "1,000 scattered changed rows":
        ok = d["changed_count"] == len(truth["scattered"]) and changed == truth["scattered"][: len(changed)]
        ok = ok and d["rows_differing"] == d["changed_count"] and not by_column
        return ok, f"changed {d['changed_count']:,} rows, first keys {changed[:3]}"
    names = [c["column"] for c in by_column]
    ok = (
        names == ["price"]
        and by_column[0]["rows"] == by_column[0]["sampled"] > 0
        and [k[0] for k in by_column[0]["keys"]] == list(range(1, len(by_column[0]["keys"]) + 1))
        and not d["changed"]
    )
    return ok, "; ".join(
        f"{c['column']}: {c['rows']:,} of {c['sampled']:,} sampled rows differ, keys {[k[0] for k in c['keys'][:3]]}"
        for c in by_column
    ) + f" (changed rows, by bucket: at most {d['changed_count']:,})"


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


def reladiff_run(exe: Path, url: str, other: str) -> tuple[float, set[str], str]:
    """Cross-database form (the same URL twice) so reladiff uses hashdiff, its algorithm for two databases.

    --skip-sort-results: reladiff 0.6 sorts its output rows and fails on a NULL next to a string (it logs
    an ERROR, prints nothing and still exits 0); the changed row here has a NULL name."""
    argv = [
        str(exe),
        url,
        "airflow_out.prices",
        url,
        other,
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
    say(f"database {db.DatabaseUrl.parse(url).render()}")
    db.ensure_warehouse_database(url)
    try:
        started = time.perf_counter()
        truth = create_tables(url, args.rows)
        say(f"tables ready in {time.perf_counter() - started:.1f} s")
        lines, all_met, first_floor = [], True, 0.0
        for i, case in enumerate(CASES):
            floors, ours, rss, floor_rss, d = [], [], [], [], {}
            for run in range(1, args.runs + 1):
                f = measure("floor", url, f"case{i}")
                d = measure("diff", url, f"case{i}")
                floors.append(float(f["seconds"]))
                ours.append(float(d["seconds"]))
                rss.append(float(d["rss_mb"]))
                floor_rss.append(float(f["rss_mb"]))
                say(
                    f"{case}, run {run}: floor {floors[-1]:.2f} s ({floor_rss[-1]:.0f} MB), diff {ours[-1]:.2f} s "
                    f"({d['queries']} queries, {rss[-1]:.0f} MB)"
                )
            fl, ou = statistics.median(floors), statistics.median(ours)
            first_floor = first_floor or fl
            ok, found = exact(case, d, truth)
            met = ok and ou / fl <= GOAL_RATIO and max(rss) <= GOAL_RSS_MB
            all_met &= met
            lines.append(
                f"| {case} | {fl:.2f} s | {ou:.2f} s | {ou / fl:.2f}x | {max(rss):.0f} MB | "
                f"{'yes' if ok else 'NO'}: {found} |"
            )
        print()
        print(f"{args.rows:,} rows per table, {len(COLUMNS)} compared columns, medians of {args.runs} run(s)")
        print("| case | floor | diff_tables | ratio | diff peak RSS | keys exact |")
        print("|---|---|---|---|---|---|")
        print("\n".join(lines))
        print(
            f"goals (ratio <= {GOAL_RATIO}x, RSS <= {GOAL_RSS_MB} MB, keys exact): {'met' if all_met else 'NOT met'}"
        )
        if args.no_reladiff:
            print("reladiff: skipped (--no-reladiff)")
        else:
            say("installing reladiff into /tmp/reladiff-venv (a throwaway venv)")
            exe, why = reladiff_install()
            if exe is None:
                print(f"reladiff: not measured: {why}")
            else:
                seconds, keys, error = reladiff_run(exe, url, "shadow_prefect.case0")
                if error:
                    print(f"reladiff: failed after {seconds:.2f} s: {error}")
                else:
                    print(
                        f"reladiff (hashdiff), one changed row: {seconds:.2f} s ({seconds / first_floor:.2f}x floor); "
                        f"keys it reported: {sorted(keys, key=int)}"
                    )
        return 0 if all_met else 1
    finally:
        say(f"dropping {name}")
        db.drop_warehouse_database(url)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
