"""How close the ETL loader core gets to a raw ``mariadb | psql`` pipe, and whether its memory stays flat.

    .venv/bin/python bench/etl_throughput.py [--rows 1000000] [--big-rows 5000000] [--rounds 3] [--keep]

Needs MariaDB and PostgreSQL (``BRIDGE_SOURCE_URL`` / ``BRIDGE_WAREHOUSE_URL``, or the local defaults;
only the database names are replaced, by ``bridge_bench_src`` / ``bridge_bench_wh``, dropped at the end
unless ``--keep``), and the ``mariadb`` (or ``mysql``) and ``psql`` clients. Not run by the tests.

1. Seeds ``--rows`` products (``devkit.etl_seed``, no orders).
2. Alternates, ``--rounds`` times, on the same table:
   - raw: ``mariadb --batch --quick -N -e "SELECT ..." | psql -c "\\copy raw.products FROM STDIN
     WITH (NULL 'NULL')"`` into an existing, truncated table. (Its SELECT strips carriage returns from
     ``description``: a raw CR ends a COPY row, so the bare pipe cannot load this table otherwise; it also
     loads the string 'NULL' as NULL. Our loader keeps both.)
   - ours: the loader in a fresh process (``pipelines.adapters.loader``: the client reader, COPY into a new
     table with the summary's checksum computed as the rows stream past, primary key, swap, commit); and
     once more with the stream checksum switched off, for reference.
   Medians are compared; the goal is ours, checksum included, >= 0.85x the raw pipe's rows/s. The checksum
   must equal ``bridge.compare.table_checksum`` of the loaded table (the table diff's full scan).
3. Peak RSS of each side's client processes, sampled every 10 ms with psutil (``ru_maxrss`` would be
   wrong: on Linux it includes what the parent had mapped when it forked the child): ``mariadb`` +
   ``psql`` for the pipe, our Python process + its ``mariadb`` child for ours (the peak of the sum).
   Database servers are not counted on either side.
4. Seeds ``--big-rows`` and runs ours once more: peak RSS must be the same as at ``--rows`` (<= 150 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.compare.model import TableSide  # noqa: E402
from bridge.compare.tables import table_checksum  # noqa: E402
from devkit.etl_seed import seed_etl  # noqa: E402
from pipelines.adapters import db  # noqa: E402
from pipelines.etl.tables import PRODUCTS  # noqa: E402
from tablesum import TableChecksum  # noqa: E402

SOURCE_DB, WAREHOUSE_DB = "bridge_bench_src", "bridge_bench_wh"
GOAL_RATIO, GOAL_RSS_MB = 0.85, 150

OURS = r"""
import json, sys, time
from pipelines.adapters import db
from pipelines.adapters import loader as etl_load
from pipelines.etl import checksum as stream_checksum
from pipelines.jobs.etl import prepare_etl_target
from pipelines.adapters.mysql_extract import ExtractConfig, Extraction
from pipelines.etl.tables import PRODUCTS

source, warehouse, reader, summed = sys.argv[1:5]
if summed == "no":  # the loader core alone, for reference: the stream checksum switched off
    stream_checksum.StreamChecksum.feed = lambda self, chunk: setattr(self, "count", self.count + chunk.count(b"\n"))
prepare_etl_target(warehouse, "ours", (PRODUCTS,))
with db.warehouse_connection(warehouse) as conn:
    start = time.perf_counter()
    with etl_load.open_load(conn, "ours", etl_load.LoadConfig()) as load:
        with Extraction(source, [PRODUCTS.select_sql()], ExtractConfig(reader)) as rows:
            result = load.swap_in(PRODUCTS, rows.result(0))
            rows.finish()
    total = time.perf_counter() - start
print(json.dumps({"rows": result.rows_written, "total": total, "checksum": result.checksum}))
"""


def say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


def _url(base: str, name: str) -> db.DatabaseUrl:
    return db.DatabaseUrl.parse(base).with_database(name)


def _mysql_cmd(url: db.DatabaseUrl) -> tuple[list[str], dict[str, str]]:
    binary = shutil.which("mariadb") or shutil.which("mysql")
    if not binary:
        sys.exit("bench: needs the mariadb (or mysql) client on PATH")
    env = {**os.environ, "MYSQL_PWD": url.password or ""}
    return [
        binary,
        "--no-defaults",
        "--batch",
        "--quick",
        "-N",
        "--default-character-set=utf8mb4",
        "--protocol=TCP",
        f"--host={url.host}",
        f"--port={url.port}",
        f"--user={url.username or 'root'}",
        url.database,
    ], env


def _psql_cmd(url: db.DatabaseUrl, command: str) -> tuple[list[str], dict[str, str]]:
    binary = shutil.which("psql")
    if not binary:
        sys.exit("bench: needs psql on PATH")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return [
        binary,
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        url.host,
        "-p",
        str(url.port),
        "-U",
        url.username or "postgres",
        "-d",
        url.database,
        "-c",
        command,
    ], env


class PeakRss:
    """Samples the RSS of some processes and all their descendants every 10 ms, until stopped."""

    def __init__(self, *pids: int) -> None:
        self.roots = [psutil.Process(pid) for pid in pids]
        self.by_name: dict[str, float] = {}
        self.total = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0.0
            for root in self.roots:
                try:
                    procs = [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
                for proc in procs:
                    try:
                        mb = proc.memory_info().rss / (1 << 20)
                        name = proc.name()
                    except psutil.Error:
                        continue
                    total += mb
                    self.by_name[name] = max(self.by_name.get(name, 0.0), mb)
            self.total = max(self.total, total)
            self._stop.wait(0.01)

    def stop(self) -> PeakRss:
        self._stop.set()
        self._thread.join()
        return self

    def detail(self) -> str:
        return " + ".join(f"{name} {mb:.0f}" for name, mb in sorted(self.by_name.items()))


def raw_pipe(source: db.DatabaseUrl, warehouse: db.DatabaseUrl) -> dict[str, object]:
    subprocess.run(
        _psql_cmd(warehouse, "TRUNCATE raw.products")[0], env=_psql_cmd(warehouse, "")[1], check=True
    )
    columns = ", ".join(
        "REPLACE(description, CHAR(13), '')" if c == "description" else c for c in PRODUCTS.column_names
    )
    mysql, mysql_env = _mysql_cmd(source)
    psql, psql_env = _psql_cmd(warehouse, "\\copy raw.products FROM STDIN WITH (NULL 'NULL')")
    start = time.perf_counter()
    reader = subprocess.Popen(
        [*mysql, "-e", f"SELECT {columns} FROM products"], stdout=subprocess.PIPE, env=mysql_env
    )
    writer = subprocess.Popen(psql, stdin=reader.stdout, env=psql_env)
    assert reader.stdout is not None
    reader.stdout.close()
    rss = PeakRss(reader.pid, writer.pid)
    code_w, code_r = writer.wait(), reader.wait()
    elapsed = time.perf_counter() - start
    rss.stop()
    if code_w or code_r:
        sys.exit(f"bench: raw pipe failed (mariadb {code_r}, psql {code_w})")
    return {"seconds": elapsed, "rss_mb": rss.total, "detail": rss.detail()}


def ours(source: str, warehouse: str, reader: str = "client", summed: bool = True) -> dict[str, object]:
    proc = subprocess.Popen(
        [sys.executable, "-c", OURS, source, warehouse, reader, "yes" if summed else "no"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    rss = PeakRss(proc.pid)
    stdout, stderr = proc.communicate()
    rss.stop()
    if proc.returncode:
        sys.exit(f"bench: our loader failed:\n{stderr[-2000:]}")
    out = json.loads(stdout.strip().splitlines()[-1])
    return {
        "seconds": out["total"],
        "checksum": out["checksum"],
        "rows": out["rows"],
        "rss_mb": rss.total,
        "detail": rss.detail(),
    }


def seed(source: str, rows: int) -> None:
    start = time.perf_counter()
    say(f"seeding {rows:,} products into {SOURCE_DB} ...")
    seed_etl(
        source,
        rows,
        1,
        orders=0,
        promotions=0,
        progress=lambda table, n: n % 500_000 == 0 and say(f"  {table}: {n:,} rows"),
    )
    say(f"seeded in {time.perf_counter() - start:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=5_000_000, help="0 to skip the memory run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pymysql", action="store_true", help="also time the pymysql reader once")
    parser.add_argument("--keep", action="store_true", help="keep the two bench databases")
    args = parser.parse_args(argv)

    source_url = _url(db.source_url(), SOURCE_DB)
    warehouse_url = _url(db.warehouse_url(), WAREHOUSE_DB)
    source, warehouse = source_url.render(hide_password=False), warehouse_url.render(hide_password=False)
    db.ensure_warehouse_database(warehouse)
    try:
        seed(source, args.rows)
        create = ", ".join(f"{name} {kind}" for name, kind in PRODUCTS.spec.columns)
        subprocess.run(
            _psql_cmd(
                warehouse_url,
                f"DROP SCHEMA IF EXISTS raw CASCADE; CREATE SCHEMA raw; CREATE TABLE raw.products ({create})",
            )[0],
            env=_psql_cmd(warehouse_url, "")[1],
            check=True,
        )
        raws, mine, cores = [], [], []
        for round_no in range(1, args.rounds + 1):
            raws.append(raw_pipe(source_url, warehouse_url))
            say(
                f"round {round_no}: raw pipe {raws[-1]['seconds']:.2f} s, {args.rows / raws[-1]['seconds']:,.0f} "
                f"rows/s, peak RSS {raws[-1]['rss_mb']:.0f} MB ({raws[-1]['detail']})"
            )
            mine.append(ours(source, warehouse))
            say(
                f"round {round_no}: ours with the stream checksum {mine[-1]['seconds']:.2f} s, "
                f"{args.rows / mine[-1]['seconds']:,.0f} rows/s, peak RSS {mine[-1]['rss_mb']:.0f} MB "
                f"({mine[-1]['detail']})"
            )
            cores.append(ours(source, warehouse, summed=False))
            say(f"round {round_no}: ours without the checksum (reference) {cores[-1]['seconds']:.2f} s")
        raw_s = statistics.median(r["seconds"] for r in raws)
        our_s = statistics.median(m["seconds"] for m in mine)
        core_s = statistics.median(c["seconds"] for c in cores)
        raw_rss = max(r["rss_mb"] for r in raws)
        our_rss = max(m["rss_mb"] for m in mine)
        mine_sum = TableChecksum.parse(str(mine[-1]["checksum"]))
        with_diff = table_checksum(TableSide(warehouse, "ours", "products"), ["id"]) == mine_sum
        say(f"the stream checksum {mine_sum} equals the table diff's scan of the loaded table: {with_diff}")
        if args.pymysql:
            slow = ours(source, warehouse, "pymysql")
            say(
                f"pymysql reader (once): {slow['seconds']:.2f} s, {args.rows / slow['seconds']:,.0f} rows/s, "
                f"RSS {slow['rss_mb']:.0f} MB"
            )
        big_rss = None
        if args.big_rows:
            seed(source, args.big_rows)
            big = ours(source, warehouse)
            big_rss = big["rss_mb"]
            say(
                f"ours at {args.big_rows:,}: {big['seconds']:.2f} s with the stream checksum, "
                f"{args.big_rows / big['seconds']:,.0f} rows/s, peak RSS {big['rss_mb']:.0f} MB ({big['detail']})"
            )
    finally:
        if not args.keep:
            db.drop_source_database(source)
            db.drop_warehouse_database(warehouse)

    ratio = raw_s / our_s
    print()
    print(f"{'':<40}{'seconds':>9}{'rows/s':>11}{'peak RSS':>10}")
    print(f"{'raw mariadb | psql':<40}{raw_s:>9.2f}{args.rows / raw_s:>11,.0f}{raw_rss:>7.0f} MB")
    print(f"{'ours, stream checksum included':<40}{our_s:>9.2f}{args.rows / our_s:>11,.0f}{our_rss:>7.0f} MB")
    print(f"{'ours without the checksum (reference)':<40}{core_s:>9.2f}{args.rows / core_s:>11,.0f}")
    if big_rss is not None:
        print(f"{f'ours at {args.big_rows:,} rows':<40}{'':>9}{'':>11}{big_rss:>7.0f} MB")
    print(
        f"ratio ours/raw with the checksum: {ratio:.2f}x (goal >= {GOAL_RATIO}x); "
        f"without it: {raw_s / core_s:.2f}x; the checksum's share: {(our_s - core_s) / our_s:.0%}"
    )
    met = (
        ratio >= GOAL_RATIO
        and with_diff
        and our_rss <= GOAL_RSS_MB
        and (big_rss is None or big_rss <= GOAL_RSS_MB)
    )
    print(
        f"peak RSS ours: {our_rss:.0f} MB at {args.rows:,}"
        + (f", {big_rss:.0f} MB at {args.big_rows:,}" if big_rss is not None else "")
        + f" (goal <= {GOAL_RSS_MB} MB, flat); checksum = the diff's: {with_diff}: {'met' if met else 'NOT met'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
