"""The dashboard's server time as the history grows: 1,000 against 10,000 comparisons in the store.

    .venv/bin/python bench/dashboard.py [--sizes 1000 10000] [--requests 30]

Fills a private SQLite history store (a temporary directory; nothing else is touched) with N comparisons
spread over the catalog's workflows (half of them on the measured one, each with both observations and
their task documents, two differences and a table diff, as a shadow run records), puts two workflows in
stage shadow (so the list evaluates their gates; the servers' facts are fixed, no orchestrator is asked),
then times each page inside the ASGI app (Starlette's TestClient: no network), median over --requests
after one warm-up request. The raw baseline, measured in the same run: `/healthz` (the framework's own
cost per request) and the bare SQL a workflow page needs (its newest 100 comparisons, the latest one's
rows), with sqlite3. Goal: index and workflow page <= 200 ms at 10,000, and a cost that does not grow
with the history (the pages read bounded windows).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MEASURED = "update_prices_daily"
VERDICTS = ["match"] * 8 + ["mismatch", "shadow_failed"]


def fill(url: str, size: int, workflows: list[str], seed: int = 7) -> None:
    """``size`` comparisons in one transaction, through the store's own tables."""
    from bridge.store import Store, comparisons, differences, observations, table_diffs

    rng = random.Random(seed)
    store = Store(url)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    others = [w for w in workflows if w != MEASURED]
    with store.engine.begin() as conn:
        for i in range(size):
            workflow = MEASURED if i % 2 == 0 else others[i % len(others)]
            verdict = rng.choice(VERDICTS)
            at = t0 + timedelta(minutes=i)
            cid = conn.execute(
                comparisons.insert().values(
                    workflow=workflow,
                    correlation_id=f"bench-{i}",
                    verdict=verdict,
                    at=at,
                    shadow_wall_s=4.0 + rng.random(),
                    conf={"business_date": "2024-12-31"},
                    summary=f"{verdict} (2 values)"
                    if verdict == "mismatch"
                    else f"{verdict} (0 differences)",
                    origin=rng.choice(["scheduled", "replay", "manual"]),
                )
            ).inserted_primary_key[0]
            for side, waited, ran in (("airflow", 3.4, 3.2), ("prefect", 4.5, 0.2)):
                tasks = {
                    f"task_{k}": {"state": "success", "value": {"rows": rng.randint(0, 999)}}
                    for k in range(5)
                }
                conn.execute(
                    observations.insert().values(
                        comparison_id=cid,
                        side=side,
                        run=f"{side}:run-{i}",
                        state="success",
                        start=at,
                        end=at + timedelta(seconds=ran),
                        duration_s=ran + rng.random() / 10,
                        elapsed_s=waited + rng.random(),
                        url=f"http://127.0.0.1:8080/dags/{workflow}/runs/bench-{i}",
                        document={
                            "state": "success",
                            "tasks": tasks,
                            "result": {"business_date": "2024-12-31", "rows": 261},
                        },
                    )
                )
            conn.execute(
                differences.insert(),
                [
                    {
                        "comparison_id": cid,
                        "path": "result.rows",
                        "airflow": 261,
                        "prefect": 259,
                        "kind": "changed",
                    },
                    {
                        "comparison_id": cid,
                        "path": "result.at",
                        "airflow": "9:00",
                        "prefect": "9:01",
                        "kind": "ignored",
                        "note": "clock",
                    },
                ],
            )
            conn.execute(
                table_diffs.insert().values(
                    comparison_id=cid,
                    table_name="price_history",
                    detail={
                        "table": "price_history",
                        "key": ["product_id"],
                        "airflow_rows": 261,
                        "prefect_rows": 259,
                        "only_airflow": [[357], [358]],
                        "only_airflow_count": 2,
                        "equal": False,
                    },
                )
            )
    store.engine.dispose()


def median_ms(get: Any, path: str, requests: int, shows: str = "", count: int = 0) -> float:
    """Median time of ``requests`` GETs of ``path``; the page must hold ``shows`` ``count`` times."""
    first = get(path)  # warm-up: templates compiled, connections made
    if shows:
        assert first.text.count(shows) == count, (path, shows, first.text.count(shows), count)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        answer = get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return statistics.median(times)


def raw_sql_ms(path: Path, requests: int) -> float:
    """What a workflow page must read, as bare sqlite3: its newest 100 comparisons, the latest's rows."""
    conn = sqlite3.connect(path)
    times = []
    for _ in range(requests + 1):
        start = time.perf_counter()
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM comparisons WHERE workflow = ? ORDER BY id DESC LIMIT 100", (MEASURED,)
            )
        ]
        marks = ",".join("?" * len(ids))
        conn.execute(f"SELECT * FROM observations WHERE comparison_id IN ({marks})", ids).fetchall()
        conn.execute("SELECT * FROM differences WHERE comparison_id = ?", (ids[0],)).fetchall()
        conn.execute("SELECT * FROM table_diffs WHERE comparison_id = ?", (ids[0],)).fetchall()
        times.append((time.perf_counter() - start) * 1000)
    conn.close()
    return statistics.median(times[1:])


def measure(size: int, requests: int) -> dict[str, float]:
    from starlette.exceptions import StarletteDeprecationWarning

    from bridge import config
    from bridge.cutover.gates import LiveFacts
    from bridge.cutover.ledger import Ledger
    from bridge.serve.app import create_app
    from bridge.serve.source import Source
    from bridge.store import Store

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

    catalog = config.load()
    with tempfile.TemporaryDirectory() as home:
        path = Path(home) / "history.db"
        url = f"sqlite:///{path}"
        started = time.perf_counter()
        fill(url, size, sorted(catalog.workflows))
        filled = time.perf_counter() - started
        store = Store(url)
        ledger = Ledger(store)
        for name in (MEASURED, "etl_orders"):
            ledger.record(name, "airflow", "shadow", actor="bench", reason="bench")

        def facts(entry: Any) -> LiveFacts:
            return LiveFacts(entry.deployment, deployment_updated=datetime(2025, 1, 1, tzinfo=UTC))

        client = TestClient(create_app(Source(store, catalog, facts)))
        found = {
            "fill_s": filled,
            "healthz": median_ms(client.get, "/healthz", requests),
            "raw_sql": raw_sql_ms(path, requests),
            "index": median_ms(client.get, "/", requests, 'class="workflow-row"', len(catalog.workflows)),
            "workflow": median_ms(
                client.get, f"/workflows/{MEASURED}", requests, "<circle", min(100, size // 2)
            ),
            "comparison": median_ms(client.get, f"/comparisons/{size - 2 if size > 2 else 1}", requests),
        }
        client.close()
        store.engine.dispose()
        return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    results = {size: measure(size, args.requests) for size in args.sizes}
    print(
        f"{'comparisons':>12} {'/healthz':>10} {'raw SQL':>9} {'index /':>9} {'workflow':>9} {'comparison':>11}  (median ms, {args.requests} requests; store filled in)"
    )
    for size, r in results.items():
        print(
            f"{size:>12,} {r['healthz']:>10.1f} {r['raw_sql']:>9.1f} {r['index']:>9.1f} {r['workflow']:>9.1f} "
            f"{r['comparison']:>11.1f}  ({r['fill_s']:.0f} s)"
        )
    small, large = results[min(results)], results[max(results)]
    for page in ("index", "workflow", "comparison"):
        growth = large[page] / small[page] if small[page] else float("nan")
        print(
            f"{page}: {large[page]:.1f} ms at {max(results):,} comparisons, {growth:.2f}x the time at {min(results):,}"
        )
    worst = max(large["index"], large["workflow"])
    print(
        f"goal <= 200 ms at {max(results):,}: {'met' if worst <= 200 else 'NOT met'} (worst {worst:.1f} ms)"
    )


if __name__ == "__main__":
    main()
