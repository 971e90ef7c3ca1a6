"""The watcher's pairing and cursor with fakes: which instants are compared, missing or waited for; a
watcher killed between recording a pair and moving its cursor neither loses nor repeats a pair."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge.backends.base import RunRef, RunState
from bridge.config import WorkflowEntry
from bridge.shadow import ShadowResult, SideOutcome
from bridge.store import Store
from bridge.watch import cycle as cycle_mod
from bridge.watch import pairing
from bridge.watch.listing import ScheduledRun
from bridge.watch.pairing import decide, next_cursor
from bridge.watch.state import WatchState, pair_id

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
GRACE = timedelta(seconds=60)


def run(side: str, minute: int, state: RunState = RunState.SUCCESS, workflow: str = "wf") -> ScheduledRun:
    at = T0 + timedelta(minutes=minute)
    return ScheduledRun(side, workflow, at, state, RunRef(side, workflow, f"{side}-{minute}", "c"))


def test_pairs_missing_and_waiting() -> None:
    now = T0 + timedelta(minutes=5, seconds=30)
    airflow = [run("airflow", 0), run("airflow", 1), run("airflow", 5), run("airflow", 3, RunState.RUNNING)]
    prefect = [run("prefect", 0), run("prefect", 2), run("prefect", 3), run("prefect", 4)]
    got = {
        (d.instant - T0).seconds // 60: d.action
        for d in decide("wf", airflow, prefect, set(), T0, now, GRACE)
    }
    # 0 both ran; 1, 2 one side only and past grace; 3 a side still running; 4 within grace; 5 within grace
    assert got == {0: "compare", 1: "missing", 2: "missing", 3: "wait", 4: "missing", 5: "wait"}


def test_done_pairs_and_instants_before_the_cursor_are_left_alone() -> None:
    now = T0 + timedelta(minutes=10)
    runs = [run("airflow", m) for m in range(4)], [run("prefect", m) for m in range(4)]
    done = {pair_id("wf", T0 + timedelta(minutes=2))}
    decisions = decide("wf", *runs, done, T0 + timedelta(minutes=1), now, GRACE)
    assert [(d.instant - T0).seconds // 60 for d in decisions] == [1, 3]


def test_the_cursor_stops_at_the_oldest_waiting_instant_and_never_goes_back() -> None:
    now = T0 + timedelta(minutes=10)
    waiting = decide("wf", [run("airflow", 7, RunState.RUNNING)], [run("prefect", 7)], set(), T0, now, GRACE)
    assert next_cursor(T0, waiting, now, GRACE) == T0 + timedelta(minutes=7)
    assert next_cursor(T0, [], now, GRACE) == now - GRACE
    assert next_cursor(now, [], now, GRACE) == now  # never back


@dataclass
class FakeCatalog:
    workflows: dict[str, WorkflowEntry]
    warehouse_url: str | None = None
    store_url: str | None = None

    def entry(self, dag_id: str) -> WorkflowEntry:
        return self.workflows[dag_id]


@dataclass
class FakeBackends:
    catalog: FakeCatalog
    runs: dict[str, list[ScheduledRun]] = field(default_factory=lambda: {"airflow": [], "prefect": []})

    def get(self, side: str) -> Any:
        return side


class Crash(Exception):
    pass


def fake_result(backends: Any, entry: WorkflowEntry, stage: str, d: Any, *rest: Any) -> ShadowResult:
    side = SideOutcome("airflow", "success")
    verdict = "match" if d.action == "compare" else "missing"
    return pairing._result(entry, d.instant, verdict, side, SideOutcome("prefect", "success"))


@pytest.fixture
def watch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, FakeBackends, Store]:
    store = Store(f"sqlite:///{tmp_path / 'history.db'}")
    entry = WorkflowEntry("wf", deployment="wf/wf", stage="shadow")
    backends = FakeBackends(FakeCatalog({"wf": entry}, store_url=store.url))
    monkeypatch.setattr("bridge.cutover.truth.stored_stages", lambda catalog: {})
    monkeypatch.setattr(cycle_mod, "deployment_ids", lambda backend, names: {n: "id-" + n for n in names})
    monkeypatch.setattr(cycle_mod, "airflow_runs", lambda b, ids, since, until: backends.runs["airflow"])
    monkeypatch.setattr(
        cycle_mod, "prefect_runs", lambda b, ids, since, until: [r for r in backends.runs["prefect"]]
    )
    monkeypatch.setattr(pairing, "compare_pair", fake_result)
    monkeypatch.setattr(pairing, "missing_result", fake_result)
    return backends, backends, store


def watcher(backends: Any, store: Store, now: datetime) -> cycle_mod.Watcher:
    settings = cycle_mod.WatchSettings(GRACE, timedelta(0), 1.0)
    return cycle_mod.Watcher(backends, store, settings, clock=lambda: now)


def recorded(store: Store) -> list[tuple[str, str]]:
    return sorted((r["correlation_id"], r["verdict"]) for r in store.history("wf", limit=100))


def test_a_watcher_killed_between_recording_and_moving_its_cursor_repeats_nothing(
    watch: tuple[Any, FakeBackends, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    backends, _, store = watch
    watcher(backends, store, T0 - timedelta(minutes=1)).cycle()  # first sight: the cursor starts here
    backends.runs["airflow"] = [run("airflow", 0), run("airflow", 1)]
    backends.runs["prefect"] = [run("prefect", 0)]
    # killed after the comparisons were recorded, before the cursors were saved
    monkeypatch.setattr(WatchState, "save_cursors", lambda self, cursors: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        watcher(backends, store, T0 + timedelta(minutes=3)).cycle()
    monkeypatch.undo()
    assert recorded(store) == [
        (pair_id("wf", T0), "match"),
        (pair_id("wf", T0 + timedelta(minutes=1)), "missing"),
    ]


def test_a_restarted_watcher_goes_on_from_its_cursor(watch: tuple[Any, FakeBackends, Store]) -> None:
    backends, _, store = watch
    watcher(backends, store, T0 - timedelta(minutes=1)).cycle()
    backends.runs["airflow"] = [run("airflow", 0), run("airflow", 1, RunState.RUNNING)]
    backends.runs["prefect"] = [run("prefect", 0), run("prefect", 1)]
    report = watcher(backends, store, T0 + timedelta(minutes=2)).cycle()
    assert [r.verdict for r in report.recorded] == ["match"] and report.waiting == 1
    cursor = WatchState(store).cursors()["wf"]
    assert cursor == T0 + timedelta(minutes=1)  # held at the instant still running
    backends.runs["airflow"][1] = run("airflow", 1)
    again = watcher(backends, store, T0 + timedelta(minutes=3))  # a new process: nothing in memory
    assert [r.at for r in again.cycle().recorded] == [T0 + timedelta(minutes=1)]
    assert again.cycle().recorded == []  # and never twice
    assert len(recorded(store)) == 2
