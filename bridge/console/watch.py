"""`bridge watch`: each cycle in one line (and a line per recorded comparison), or one JSON object."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import IO, Any

from bridge.console.common import Options, backends_for


def cycle_line(report: Any) -> str:
    """``cycle 2026-12-01T10:00:05Z: 3 watched; listed airflow 2, prefect 2; 1 recorded, 0 waiting; 0.4 s``."""
    listed = ", ".join(f"{side} {n}" for side, n in sorted(report.listed.items())) or "nothing"
    return (
        f"cycle {report.at:%Y-%m-%dT%H:%M:%SZ}: {report.watched} watched; listed {listed}; "
        f"{len(report.recorded)} recorded, {report.waiting} waiting; {report.seconds:.1f} s"
    )


def recorded_line(result: Any) -> str:
    """``scheduled etl_orders at 2026-12-01T10:00:00Z: match (...) #12``."""
    return f"scheduled {result.workflow} at {result.at:%Y-%m-%dT%H:%M:%SZ}: {result.verdict_line} #{result.comparison_id}"


def cycle_doc(report: Any) -> dict[str, Any]:
    return {
        "at": report.at.isoformat(),
        "watched": report.watched,
        "listed": report.listed,
        "recorded": [
            {
                "workflow": r.workflow,
                "instant": r.at.isoformat() if r.at else None,
                "verdict": r.verdict,
                "comparison_id": r.comparison_id,
                "origin": r.origin,
            }
            for r in report.recorded
        ],
        "waiting": report.waiting,
        "errors": report.errors,
        "seconds": round(report.seconds, 3),
    }


def watch(
    opts: Options, *, once: bool, grace: float, settle: float, interval: float, out: IO[str] = sys.stdout
) -> None:
    from bridge.store import Store
    from bridge.watch import Watcher, WatchSettings

    backends = backends_for(opts)
    settings = WatchSettings(timedelta(seconds=grace), timedelta(seconds=settle), interval)
    watcher = Watcher(backends, Store(backends.catalog.store_url), settings)

    def say(report: Any) -> None:
        if opts.as_json:
            out.write(json.dumps(cycle_doc(report)) + "\n")
        else:
            for result in report.recorded:
                out.write(recorded_line(result) + "\n")
            for error in report.errors:
                out.write(f"not yet: {error}\n")
            out.write(cycle_line(report) + "\n")
        out.flush()

    def error(exc: Exception) -> None:
        print(f"bridge watch: {exc} (retried next cycle)", file=sys.stderr, flush=True)

    watcher.run(once=once, say=say, error=error)
