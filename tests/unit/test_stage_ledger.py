"""Where a stage is true: the ledger in the history store (SQLite here), the fast read every CLI start
makes, the lock that lets one of two switches through, and `bridge stages` over both."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge import config
from bridge.cutover import truth
from bridge.cutover.ledger import Ledger, SwitchLockedError, stages
from bridge.operations import resolve
from bridge.store import Store
from tests.helpers import REPO, conforms


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BRIDGE_HOME", str(tmp_path))
    monkeypatch.delenv("BRIDGE_STORE_URL", raising=False)
    return tmp_path


@pytest.fixture
def ledger(home: Path) -> Ledger:
    return Ledger(Store())


def test_a_change_is_the_current_stage_and_is_audited(ledger: Ledger) -> None:
    change = ledger.record(
        "update_prices_daily", "airflow", "shadow", actor="alice", reason="port ready", evidence=[3, 4]
    )
    current = ledger.current("update_prices_daily")
    assert current is not None and current.stage == "shadow" and current.last_change == change
    ledger.record("update_prices_daily", "shadow", "airflow", actor="bob", reason="rollback", steps=["x"])
    history = ledger.history("update_prices_daily")
    assert [(c.from_stage, c.to_stage, c.actor) for c in history] == [
        ("airflow", "shadow", "alice"),
        ("shadow", "airflow", "bob"),
    ]
    assert history[0].evidence == (3, 4) and history[1].steps == ("x",) and history[0].id < history[1].id
    assert ledger.current("etl_orders") is None  # never changed: bridge.toml's stage holds


def test_an_unknown_stage_is_refused(ledger: Ledger) -> None:
    from bridge.errors import UsageError

    with pytest.raises(UsageError, match="stage must be one of airflow, shadow, prefect, retired"):
        ledger.record("etl_orders", "airflow", "canary")
    assert ledger.history("etl_orders") == []


def test_the_store_wins_over_bridge_toml_and_auto_follows_it(ledger: Ledger) -> None:
    catalog = config.load()
    assert catalog.entry("update_prices_daily").stage == "airflow"
    assert truth.effective(catalog) is catalog  # nothing recorded: the file's stages, untouched
    ledger.record("update_prices_daily", "airflow", "prefect", reason="test")
    stored = truth.stored_stages(catalog)  # read with sqlite3, no SQLAlchemy
    assert stored == {"update_prices_daily": "prefect"}
    effective = truth.effective(catalog)
    assert effective.entry("update_prices_daily").stage == "prefect"
    assert effective.entry("etl_orders").stage == catalog.entry("etl_orders").stage
    assert resolve(effective, "update_prices_daily", "auto", {}).backend == "prefect"
    assert resolve(catalog, "update_prices_daily", "auto", {}).backend == "airflow"
    assert truth.stage_source(catalog, stored, "update_prices_daily") == ("prefect", "store")
    assert truth.stage_source(catalog, stored, "etl_orders")[1] == "bridge.toml"


def test_the_fast_read_never_creates_or_fails_on_a_missing_store(home: Path) -> None:
    catalog = config.load()
    assert truth.stored_stages(catalog) == {}
    assert not (home / "history.db").exists()
    Store()  # a store from before the stage tables
    assert truth.stored_stages(catalog) == {}


def test_one_of_two_switches_gets_the_lock(ledger: Ledger) -> None:
    with ledger.locked("etl_orders", "first", "airflow"):
        second = ledger.locked("etl_orders", "second", "airflow")
        with (
            pytest.raises(SwitchLockedError, match="another switch of etl_orders is under way \\(first"),
            second,
        ):
            pytest.fail("the second switch must not get in")
        with ledger.locked("etl_products", "second", "airflow"):  # another workflow: its own lock
            pass
    with ledger.locked("etl_orders", "second", "airflow"):  # released: the next one gets it
        pass


def test_a_lock_left_by_a_crashed_switch_expires(ledger: Ledger) -> None:
    with ledger.locked("etl_orders", "crashed", "airflow"):
        pass
    with ledger.engine.begin() as conn:  # as a switch killed mid-way leaves it
        conn.execute(
            stages.update().values(lock_owner="crashed", lock_until=datetime.now(UTC) + timedelta(minutes=5))
        )
    with pytest.raises(SwitchLockedError), ledger.locked("etl_orders", "next", "airflow"):
        pass
    with ledger.engine.begin() as conn:
        conn.execute(stages.update().values(lock_until=datetime.now(UTC) - timedelta(seconds=1)))
    with ledger.locked("etl_orders", "next", "airflow"):
        pass


def bridge(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/root", "BRIDGE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", "stages", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bridge_stages_says_where_each_stage_comes_from(ledger: Ledger, home: Path) -> None:
    ledger.record(
        "update_prices_daily", "airflow", "shadow", actor="alice", reason="port ready", evidence=[7]
    )
    proc = bridge(home)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[1:]}
    assert set(config.load().workflows) <= set(rows)
    assert "shadow" in rows["update_prices_daily"] and "alice" in rows["update_prices_daily"]
    assert "store (bridge.toml says airflow; the store wins)" in rows["update_prices_daily"]
    assert rows["etl_orders"].split()[1] == "airflow" and rows["etl_orders"].endswith("bridge.toml")

    doc = conforms(json.loads(bridge(home, "update_prices_daily", "--history", "--json").stdout), "stages")
    assert doc["workflows"] == [
        {
            "workflow": "update_prices_daily",
            "stage": "shadow",
            "source": "store",
            "since": doc["history"][0]["at"],
            "actor": "alice",
            "toml_stage": "airflow",
        }
    ]
    assert doc["history"][0]["evidence"] == [7] and doc["history"][0]["reason"] == "port ready"
    text = bridge(home, "update_prices_daily", "--history").stdout
    assert "update_prices_daily airflow -> shadow by alice: port ready [evidence #7]" in text


def test_bridge_stages_of_an_unknown_workflow_suggests_near_names(home: Path) -> None:
    proc = bridge(home, "update_price_daily")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "update_prices_daily" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
