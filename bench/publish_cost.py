"""What publishing costs the caller, and what the metrics cost a scrape: no services needed.

    .venv/bin/python bench/publish_cost.py [--runs 30] [--comparisons 10000]

1. Recording a comparison (``bridge.shadow.record``) with publishing on, its alerts going to a webhook
   nobody listens on and one that accepts and never answers, against the raw baseline: the store's own
   ``Store.record`` of the same comparison. Both in one SQLite store, alternating, median of --runs. The
   difference is what a run waits for publishing (the outbox rows and a thread start); goal: under
   50 ms (sending happens in the background and is not counted: that is the point).
2. ``bridge.metrics.exposition`` over a store holding --comparisons comparisons of 20 workflows, against
   the raw baseline of one bare sqlite3 query of the counts by workflow, verdict and origin (the least a
   scrape must read); goal: under 200 ms per scrape.
"""

from __future__ import annotations

import argparse
import dataclasses
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge import metrics, publish, shadow
from bridge.backends.base import RunRef
from bridge.config import AirflowSettings, Catalog, PrefectSettings, WorkflowEntry
from bridge.operations import Backends
from bridge.store import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _result(workflow: str, i: int, verdict: str = "mismatch") -> shadow.ShadowResult:
    def side(name: str) -> shadow.SideOutcome:
        ref = RunRef(name, workflow, f"{name}-{i}", f"c-{i}")
        return shadow.SideOutcome(
            name, "success", f"{name}:{i}", T0, T0 + timedelta(seconds=3), "", None, {}, ref, 4.0
        )

    return shadow.ShadowResult(workflow, f"c-{workflow}-{i}", {}, verdict, side("airflow"), side("prefect"))


def _ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def publishing(runs: int, home: Path) -> tuple[float, float]:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    hooks = [
        {"name": "dead", "url": f"http://127.0.0.1:{dead_port}/"},
        {"name": "silent", "url": f"http://127.0.0.1:{silent.getsockname()[1]}/"},
    ]
    sections = {
        "publish": {"airflow_note": False, "prefect_artifact": False, "prefect_event": False},
        "alerts": {"webhooks": hooks, "timeout": 2},
    }
    catalog = Catalog(
        None, AirflowSettings(), PrefectSettings(), {"w": WorkflowEntry("w")}, sections=sections
    )
    backends = Backends(catalog)
    store = Store(f"sqlite:///{home / 'publish.db'}")
    raw, published = [], []
    for i in range(runs):
        result = dataclasses.replace(_result("w", 2 * i), origin="manual")
        started = time.perf_counter()
        store.record(result)
        raw.append(time.perf_counter() - started)
        started = time.perf_counter()
        shadow.record(store, _result("w", 2 * i + 1), origin="manual", backends=backends)
        published.append(time.perf_counter() - started)
    publish.flush(0.1)
    silent.close()
    return _ms(published), _ms(raw)


def scraping(n: int, home: Path) -> tuple[float, float]:
    url = home / "metrics.db"
    store = Store(f"sqlite:///{url}")
    verdicts = ("match",) * 8 + ("mismatch", "shadow_failed")
    for i in range(n):
        result = _result(f"workflow_{i % 20:02d}", i, verdicts[i % len(verdicts)])
        store.record(dataclasses.replace(result, origin=("manual", "scheduled", "replay")[i % 3]))
    bare, ours = [], []
    for _ in range(7):
        started = time.perf_counter()
        conn = sqlite3.connect(url)
        conn.execute(
            "SELECT workflow, verdict, origin, count(*) FROM comparisons GROUP BY 1, 2, 3"
        ).fetchall()
        conn.close()
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        metrics.exposition(store)
        ours.append(time.perf_counter() - started)
    return _ms(ours), _ms(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--comparisons", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        ours, raw = publishing(args.runs, home)
        print(
            f"record a comparison: with publishing (2 dead receivers) {ours:.1f} ms, raw Store.record {raw:.1f} ms,"
        )
        print(f"  ratio {ours / raw:.2f}x, publishing adds {ours - raw:.1f} ms (goal < 50 ms)")
        ours, bare = scraping(args.comparisons, home)
        print(
            f"metrics exposition, {args.comparisons} comparisons: {ours:.1f} ms, bare sqlite3 counts {bare:.1f} ms,"
        )
        print(f"  ratio {ours / bare:.1f}x (goal < 200 ms per scrape)")


if __name__ == "__main__":
    main()
