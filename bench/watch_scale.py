"""What one `bridge watch` cycle costs as the watched catalog grows: 10 against 200 workflows in shadow.

    .venv/bin/bridge dev up && .venv/bin/python bench/watch_scale.py [--sizes 10 200] [--cycles 5]

Registers 200 throwaway DAGs and 200 Prefect deployments on the running dev stack (bench/generated_catalog,
as bench/cli_latency.py does; most idle, a few with manual runs; all removed after, also on Ctrl-C), then
for each size writes a bridge.toml of its own mapping that many of them (stage shadow) and times the
watcher's cycles against a history store of its own: the API calls each cycle makes (every HTTP request,
counted) and its time, median over --cycles after a first cycle that resolves the deployment ids once.
Goal: the cost per cycle grows with the number of new runs, not with idle workflows or history: the calls
per cycle are the same at both sizes, and the time within 1.5x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from generated_catalog import BENCH_FLOW, GEN_PREFIX, BenchError, cleanup, connect, generated

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CALLS = {"n": 0}
_request = requests.Session.request


def _counted(self: requests.Session, *args: Any, **kwargs: Any) -> requests.Response:
    CALLS["n"] += 1
    return _request(self, *args, **kwargs)


def catalog_text(size: int) -> str:
    """The repo's backends, and ``size`` generated workflows in stage shadow (they write no tables)."""
    entries = "".join(
        f'\n[workflows.{GEN_PREFIX}{i:03d}]\ndeployment = "{BENCH_FLOW}/bench-{i:03d}"\nstage = "shadow"\n'
        f"shadow = {{ discover = false }}\n"
        for i in range(size)
    )
    return "[backends.airflow]\n[backends.prefect]\n" + entries


def measure(size: int, cycles: int, env: dict[str, str]) -> tuple[float, float, int, int]:
    """(median calls per cycle, median seconds per cycle, watched, runs listed) at ``size``."""
    from bridge import config
    from bridge.operations import Backends
    from bridge.store import Store
    from bridge.watch.cycle import Watcher, WatchSettings

    with tempfile.TemporaryDirectory() as home:
        path = Path(home) / "bridge.toml"
        path.write_text(catalog_text(size))
        local = {**env, "BRIDGE_CONFIG": str(path), "BRIDGE_HOME": home}
        backends = Backends(config.load(env=local), env=local)
        watcher = Watcher(backends, Store(f"sqlite:///{home}/history.db"), WatchSettings(settle=timedelta(0)))
        first = watcher.cycle()
        if first.errors:
            raise BenchError(f"the first cycle at {size} failed: {first.errors[0]}")
        calls, seconds = [], []
        listed = 0
        for _ in range(cycles):
            CALLS["n"] = 0
            started = time.perf_counter()
            report = watcher.cycle()
            seconds.append(time.perf_counter() - started)
            calls.append(CALLS["n"])
            listed = sum(report.listed.values())
        return statistics.median(calls), statistics.median(seconds), first.watched, listed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 200])
    parser.add_argument("--cycles", type=int, default=5)
    args = parser.parse_args()
    from bridge import config

    cat = config.load()
    env = dict(os.environ)
    password = env.setdefault("BRIDGE_AIRFLOW_PASSWORD", "admin")
    requests.Session.request = _counted  # type: ignore[method-assign]
    rows = []
    try:
        stack = connect(
            cat.airflow.url, cat.prefect.url, cat.airflow.username, password, REPO / "dags_legacy"
        )
        cleanup(stack)
        with generated(stack, max(args.sizes)):
            for size in args.sizes:
                print(f"timing {args.cycles} watcher cycles over {size} workflows in shadow", flush=True)
                rows.append((size, *measure(size, args.cycles, env)))
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted (what it generated is removed)", file=sys.stderr)
        return 130
    print(f"{'watched':>8} {'calls/cycle':>12} {'ms/cycle':>9} {'runs listed':>12}")
    for _size, calls, seconds, watched, listed in rows:
        print(f"{watched:>8} {calls:>12.0f} {seconds * 1000:>9.0f} {listed:>12}")
    (_, c_small, s_small, *_), (_, c_big, s_big, *_) = rows[0], rows[-1]
    print(
        f"calls x{c_big / c_small:.2f}, time x{s_big / s_small:.2f} from {rows[0][3]} to {rows[-1][3]} watched "
        f"workflows: goal (same calls, time <= 1.5x) {'met' if c_big <= c_small and s_big <= 1.5 * s_small else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
