"""The switch's order and its undo over fake schedulers (the real servers: tests/integration/test_cutover.py):
the side leaving the primary moves first, a target is set before a resume and reset after a pause, a failed
second side undoes the first, a rollback finishes Airflow with Prefect down and says what is pending."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bridge import config
from bridge.backends.base import ScheduleState
from bridge.cutover.ledger import Ledger
from bridge.cutover.moves import move
from bridge.cutover.switch import Switch, wanted
from bridge.errors import BackendUnavailableError, GatesUnmetError, UsageError
from bridge.store import Store

CATALOG = config.load()
ENTRY = CATALOG.workflows["update_prices_daily"]
SHADOW = ENTRY.shadow.shadow_target(ENTRY.shadow.primary_target)


@dataclass
class FakeScheduler:
    """One orchestrator's schedule of one workflow; ``down`` makes every call fail as unreachable."""

    side: str
    paused: bool
    target: str | None = None
    down: bool = False
    calls: list[str] = field(default_factory=list)

    def _check(self) -> None:
        if self.down:
            raise BackendUnavailableError(f"{self.side} is unreachable")

    def schedule_state(self, workflow_id: str) -> ScheduleState:
        self._check()
        return ScheduleState(self.paused, self.target)

    def pause(self, workflow_id: str) -> None:
        self._check()
        self.paused = True
        self.calls.append(f"{self.side} pause")

    def resume(self, workflow_id: str) -> None:
        self._check()
        self.paused = False
        self.calls.append(f"{self.side} resume")

    def set_default_target(self, workflow_id: str, target: str | None) -> None:
        self._check()
        self.target = target
        self.calls.append(f"{self.side} target {target}")


class FakeBackends:
    def __init__(self, airflow: FakeScheduler, prefect: FakeScheduler, log: list[str]) -> None:
        self.sides = {"airflow": airflow, "prefect": prefect}
        self.catalog = CATALOG
        airflow.calls = prefect.calls = log

    def get(self, name: str) -> Any:
        return self.sides[name]


def stack(stage: str) -> tuple[FakeBackends, list[str]]:
    """Both schedulers as ``stage`` leaves them."""
    want = wanted(ENTRY, stage)
    log: list[str] = []
    af = FakeScheduler("airflow", want["airflow"].paused, want["airflow"].target)
    pf = FakeScheduler("prefect", want["prefect"].paused, want["prefect"].target)
    return FakeBackends(af, pf, log), log


def test_promote_sets_the_shadow_target_before_resuming_prefect() -> None:
    backends, log = stack("airflow")
    Switch(backends, ENTRY, print).to_stage("airflow", "shadow", undo_on_failure=True)  # type: ignore[arg-type]
    assert log == [f"prefect target {SHADOW}", "prefect resume"]


def test_cutover_moves_airflow_off_the_primary_first() -> None:
    backends, log = stack("shadow")
    Switch(backends, ENTRY, print).to_stage("shadow", "prefect", undo_on_failure=True)  # type: ignore[arg-type]
    assert log == [f"airflow target {SHADOW}", "prefect target None"]


def test_a_cutover_whose_prefect_step_fails_undoes_airflows() -> None:
    backends, log = stack("shadow")
    prefect = backends.sides["prefect"]
    prefect.down = True
    with pytest.raises(BackendUnavailableError):
        Switch(backends, ENTRY, print).to_stage("shadow", "prefect", undo_on_failure=True)  # type: ignore[arg-type]
    assert log == [f"airflow target {SHADOW}", "airflow target None"]
    assert backends.sides["airflow"].target is None and not backends.sides["airflow"].paused


def test_rollback_puts_airflow_back_first_and_pauses_prefect_before_resetting_its_target() -> None:
    backends, log = stack("prefect")
    pending = Switch(backends, ENTRY, print).to_stage("prefect", "airflow", undo_on_failure=True)  # type: ignore[arg-type]
    assert pending == []
    assert log == ["airflow target None", "prefect pause"]  # prefect's target was already its default
    backends, log = stack("shadow")
    Switch(backends, ENTRY, print).to_stage("shadow", "airflow", undo_on_failure=True)  # type: ignore[arg-type]
    assert log == ["prefect pause", "prefect target None"]


def test_rollback_with_prefect_down_finishes_airflow_and_says_what_is_pending() -> None:
    backends, log = stack("retired")
    backends.sides["prefect"].down = True
    pending = Switch(backends, ENTRY, print).to_stage("retired", "airflow", undo_on_failure=True)  # type: ignore[arg-type]
    assert log == ["airflow target None", "airflow resume"]
    assert (
        len(pending) == 1
        and "prefect: PENDING" in pending[0]
        and "bridge rollback update_prices_daily" in pending[0]
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'history.db'}")


def test_moves_follow_the_stages_and_are_audited(store: Store) -> None:
    backends, _ = stack("airflow")
    result = move(backends, store, CATALOG, "update_prices_daily", "promote", actor="alice", reason="ready")  # type: ignore[arg-type]
    assert result.change is not None and (result.change.from_stage, result.change.to_stage) == (
        "airflow",
        "shadow",
    )
    assert Ledger(store).current("update_prices_daily").stage == "shadow"  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="is in shadow \\(next: `bridge cutover update_prices_daily`"):
        move(backends, store, CATALOG, "update_prices_daily", "retire")  # type: ignore[arg-type]
    again = move(backends, store, CATALOG, "update_prices_daily", "promote")  # type: ignore[arg-type]
    assert again.change is None and any("already active" in s for s in again.steps)


def test_cutover_is_refused_on_unmet_gates_and_forced_only_with_a_reason(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridge.cutover import moves
    from bridge.cutover.gates import Gate

    backends, log = stack("shadow")
    Ledger(store).record("update_prices_daily", "airflow", "shadow", reason="set up")
    unmet_gates = [
        Gate("streak", False, "needs the last 5 comparisons match", (4,)),
        Gate("parity", True, "ok"),
    ]
    monkeypatch.setattr(moves, "gates_for", lambda *a: unmet_gates)
    with pytest.raises(GatesUnmetError, match="1 gate\\(s\\) unmet \\(streak\\)"):
        move(backends, store, CATALOG, "update_prices_daily", "cutover")  # type: ignore[arg-type]
    assert log == [] and Ledger(store).current("update_prices_daily").stage == "shadow"  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="--force needs --reason"):
        move(backends, store, CATALOG, "update_prices_daily", "cutover", force=True)  # type: ignore[arg-type]
    result = move(
        backends, store, CATALOG, "update_prices_daily", "cutover", force=True, reason="incident 42"
    )  # type: ignore[arg-type]
    assert result.change is not None and result.change.forced and result.change.evidence == (4,)
    assert Ledger(store).history("update_prices_daily")[-1].reason == "incident 42"
