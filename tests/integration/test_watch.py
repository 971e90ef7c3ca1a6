"""`bridge watch` on the real test stack: the zoo's every-minute pair (zoo_minutely on Airflow,
zoo-minutely on Prefect, both registered paused) resumed for two minutes.

Minute S: both schedulers run it; a watcher running as a service pairs them and records `match` (origin
scheduled), and is then killed (SIGKILL, between its cycles). Minute S+1: Prefect's schedule is paused, so
only Airflow runs it; a new watcher (`--once`, as from a cron line) starts from the stored cursor and
records S+1 as `missing`, and S is not compared again (nor by a further cycle).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import wait_for
from tests.zoo import Zoo

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BRIDGE = str(REPO / ".venv" / "bin" / "bridge")
DAG, DEPLOYMENT = "zoo_minutely", "zoo-minutely/zoo-minutely"
GRACE = "25"


def comparisons(home: Path) -> list[dict[str, Any]]:
    db = home / "history.db"
    if not db.is_file():
        return []
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            "SELECT id, correlation_id, verdict, origin, scheduled_at FROM comparisons WHERE workflow = ?",
            (DAG,),
        ).fetchall()
    except sqlite3.OperationalError:  # the store not made yet
        return []
    finally:
        conn.close()
    return [dict(r) for r in rows]


def instant(row: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(row["scheduled_at"])).replace(tzinfo=UTC)


def scheduled_runs(prefect: Any) -> list[datetime]:
    """The future instants Prefect's scheduler has made runs for (its loop runs every 60 s)."""
    dep = prefect.client.get(f"/deployments/name/{DEPLOYMENT}")
    body = {"deployments": {"id": {"any_": [dep["id"]]}}, "sort": "EXPECTED_START_TIME_ASC", "limit": 10}
    runs = prefect.client.post("/flow_runs/filter", json=body)
    now = datetime.now(UTC)
    return [
        t
        for t in (datetime.fromisoformat(r["expected_start_time"]) for r in runs if r.get("auto_scheduled"))
        if t > now + timedelta(seconds=12)
    ]


def test_watch_pairs_scheduled_runs_then_catches_a_missing_one_across_a_kill(
    stack: Any, zoo: Zoo, tmp_path: Path
) -> None:
    from bridge.backends.airflow import AirflowBackend
    from bridge.backends.prefect import PrefectBackend

    catalog = tmp_path / "bridge.toml"
    text = zoo.catalog.read_text()
    entry = f'[workflows.{DAG}]\ndeployment = "{DEPLOYMENT}"\nstage = "airflow"'
    assert entry in text
    # in shadow; it writes no tables, so none are compared (as hello_bridge's entry says)
    shadowed = entry.replace('"airflow"', '"shadow"') + "\nshadow = { discover = false }"
    catalog.write_text(text.replace(entry, shadowed))
    home = tmp_path / "home"
    env = {**zoo.env, "BRIDGE_CONFIG": str(catalog), "BRIDGE_HOME": str(home)}
    airflow = AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password)
    prefect = PrefectBackend(stack.prefect_url)
    watcher: subprocess.Popen[str] | None = None
    try:
        prefect.resume(DEPLOYMENT)
        first = min(wait_for(lambda: scheduled_runs(prefect), 150, "Prefect's scheduler to make runs", 3))
        time.sleep(max(0.0, (first - datetime.now(UTC)).total_seconds() - 12))
        # The watcher as a service: its first cycle sets the cursor (now), then Airflow is resumed.
        watcher = subprocess.Popen(
            [BRIDGE, "watch", "--grace", GRACE, "--settle", "0", "--interval", "3", "--json"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert watcher.stdout is not None
        cycle = json.loads(watcher.stdout.readline())
        assert cycle["watched"] == 1 and not cycle["errors"], cycle
        airflow.resume(DAG)
        rows = wait_for(lambda: comparisons(home), 150, f"the watcher to pair {first.isoformat()}", 2)
        watcher.send_signal(signal.SIGKILL)  # killed as it is: between two cycles (or in one)
        watcher.wait(10)
        assert [(instant(r), r["verdict"], r["origin"]) for r in rows] == [(first, "match", "scheduled")], (
            rows
        )
        prefect.pause(DEPLOYMENT)  # S+1: only Airflow's scheduler runs it

        second = first + timedelta(minutes=1)
        time.sleep(max(0.0, (second - datetime.now(UTC)).total_seconds() + int(GRACE)))

        def once() -> list[dict[str, Any]]:
            proc = subprocess.run(
                [BRIDGE, "watch", "--once", "--grace", GRACE, "--settle", "0", "--json"],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
            return [r for r in comparisons(home) if instant(r) == second]

        missing = wait_for(once, 120, f"the watcher to record {second.isoformat()}", 5)
        assert [(r["verdict"], r["origin"]) for r in missing] == [("missing", "scheduled")]
        once()  # one cycle more: nothing compared twice
        rows = comparisons(home)
        instants = [instant(r) for r in rows]
        assert len(instants) == len(set(instants)), rows  # no pair compared twice
        assert {first, second} <= set(instants), rows  # none lost
    finally:
        if watcher is not None:
            if watcher.poll() is None:
                watcher.kill()
            watcher.wait(10)
            for stream in (watcher.stdout, watcher.stderr):
                if stream is not None:
                    stream.close()
        airflow.pause(DAG)
        prefect.pause(DEPLOYMENT)
