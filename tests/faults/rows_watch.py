"""The watcher killed between cycles: zoo_minutely (every minute on both schedulers, in stage shadow in
a catalog of the row's own) watched by `bridge watch`, SIGKILLed once it recorded a pair, started again:
each minute both schedulers ran is compared once, none lost, none twice. Reuses test_watch's helpers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.faults import procs
from tests.faults.procs import BRIDGE, Cli
from tests.faults.stack import Private
from tests.faults.table import Seen, tally
from tests.helpers import REPO, wait_for
from tests.integration.test_watch import DAG, DEPLOYMENT, comparisons, instant, scheduled_runs

Say = Callable[[str], None]
WATCH = [BRIDGE, "watch", "--grace", "25", "--settle", "0", "--interval", "3", "--json"]


def watcher_killed(p: Private, say: Say) -> Seen:
    catalog = p.scratch / "watch.toml"
    catalog.write_text(
        (REPO / "bridge.toml").read_text()
        + f'\n[workflows.{DAG}]\ndeployment = "{DEPLOYMENT}"\nstage = "shadow"\nshadow = {{ discover = false }}\n'
    )
    home = p.scratch / "watch-home"
    env = p.env(BRIDGE_CONFIG=str(catalog), BRIDGE_HOME=str(home))
    airflow, prefect = procs.airflow(p), procs.prefect(p)
    watchers: list[Cli] = []
    try:
        prefect.resume(DEPLOYMENT)
        first = min(wait_for(lambda: scheduled_runs(prefect), 150, "Prefect's scheduler to make runs", 3))
        time.sleep(max(0.0, (first - datetime.now(UTC)).total_seconds() - 12))
        watchers.append(Cli(WATCH, env))
        cycle = json.loads(watchers[0].wait_line(r"^\{", 60, stream="out").string)
        assert cycle["watched"] == 1 and not cycle["errors"], cycle
        airflow.resume(DAG)
        wait_for(lambda: comparisons(home), 150, f"the watcher to pair {first.isoformat()}", 2)
        watchers[0].proc.kill()  # between two cycles (or in one): as a crash would
        watchers[0].finish(10)
        second = first + timedelta(minutes=1)
        watchers.append(Cli(WATCH, env))  # restarted: from the stored cursor
        wait_for(
            lambda: any(instant(r) >= second for r in comparisons(home)),
            180,
            f"{second.isoformat()} paired",
            2,
        )
        time.sleep(4)  # a cycle more: nothing compared twice
    finally:
        for w in watchers:
            if w.proc.poll() is None:
                w.proc.terminate()
                w.finish(30)
        prefect.pause(DEPLOYMENT)
        airflow.pause(DAG)
    rows = comparisons(home)
    seen = [instant(r) for r in rows if instant(r) <= second]
    verdicts = sorted({r["verdict"] for r in rows})
    listed = ", ".join(f"{instant(r):%H:%M} {r['verdict']}" for r in rows)
    return Seen(
        f"killed after {first:%H:%M} was paired, restarted; compared: {listed}",
        verdicts == ["match"],
        tally([first, second], seen),
    )


ROWS: list[tuple[str, str, str, Callable[[Private, Say], Seen]]] = [
    (
        "watch-kill",
        "`bridge watch` SIGKILLed between cycles",
        "after restart every minute compared once",
        watcher_killed,
    ),
]
