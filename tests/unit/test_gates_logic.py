"""The cutover gates over recorded evidence: each one held, and each one unmet with the evidence named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.config import CutoverSettings, IgnoreRule
from bridge.cutover.evidence import business_date
from bridge.cutover.gates import Evidence, Gate, LiveFacts, evaluate, unmet

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
SETTINGS = CutoverSettings(streak=5, min_scheduled=3, min_business_dates=3)
FACTS = LiveFacts(
    "update-prices-daily/update_prices_daily",
    deployment_updated=NOW - timedelta(days=2),
    calibrated_at=NOW - timedelta(days=1),
)
RULES = (IgnoreRule("*.seconds", "wall-clock time"),)


def ev(i: int, verdict: str = "match", origin: str = "replay", day: int | None = None) -> Evidence:
    date = f"2026-11-{day if day is not None else i:02d}"
    return Evidence(i, verdict, origin, NOW - timedelta(hours=i), date)


GOOD = [ev(10, day=1), ev(9, day=2), ev(8, day=3), ev(7, origin="manual"), ev(6, origin="manual")]


def by_name(history: list[Evidence], facts: LiveFacts = FACTS) -> dict[str, Gate]:
    return {g.name: g for g in evaluate(SETTINGS, history, RULES, facts)}


def test_every_gate_holds_on_good_evidence() -> None:
    gates = evaluate(SETTINGS, GOOD, RULES, FACTS)
    assert unmet(gates) == []
    assert [g.name for g in gates] == [
        "streak",
        "scheduled_evidence",
        "no_failures",
        "calibration",
        "ignore_reasons",
        "schedule_parity",
        "deployment_ready",
    ]
    streak = gates[0]
    assert streak.evidence == (10, 9, 8, 7, 6)
    assert "2026-11-01, 2026-11-02, 2026-11-03" in gates[1].detail and gates[1].evidence == (10, 9, 8)


def test_too_few_comparisons_break_the_streak() -> None:
    gate = by_name(GOOD[:3])["streak"]
    assert not gate.ok and "3 comparison(s) recorded, 3 match" in gate.detail


@pytest.mark.parametrize("verdict", ["mismatch", "shadow_failed", "missing"])
def test_a_bad_verdict_in_the_window_is_named(verdict: str) -> None:
    history = [GOOD[0], ev(9, verdict, day=2), *GOOD[2:]]
    gates = by_name(history)
    assert not gates["streak"].ok and f"#9 is {verdict}" in gates["streak"].detail
    assert not gates["no_failures"].ok and gates["no_failures"].evidence == (9,)


def test_a_bad_verdict_older_than_the_window_does_not_count() -> None:
    gates = by_name([*GOOD, ev(5, "mismatch")])
    assert gates["streak"].ok and gates["no_failures"].ok


def test_manual_shadows_alone_are_not_enough() -> None:
    history = [ev(i, origin="manual") for i in range(10, 5, -1)]
    gate = by_name(history)["scheduled_evidence"]
    assert not gate.ok and "0 scheduled/replayed match(es)" in gate.detail


def test_scheduled_evidence_must_cover_distinct_business_dates() -> None:
    history = [ev(10, day=1), ev(9, day=1), ev(8, day=2), ev(7), ev(6)]
    gate = by_name(history)["scheduled_evidence"]
    assert gate.ok  # five replays over 4 dates
    same_day = [ev(i, day=1) for i in range(10, 5, -1)]
    gate = by_name(same_day)["scheduled_evidence"]
    assert not gate.ok and "over 1 business date(s) (2026-11-01)" in gate.detail


def test_calibration_must_exist_and_be_newer_than_the_deployment() -> None:
    none = LiveFacts(FACTS.deployment, deployment_updated=FACTS.deployment_updated)
    assert "no valid calibration" in by_name(GOOD, none)["calibration"].detail
    stale = LiveFacts(FACTS.deployment, deployment_updated=NOW, calibrated_at=NOW - timedelta(hours=1))
    gate = by_name(GOOD, stale)["calibration"]
    assert not gate.ok and "older than the deployment's last change" in gate.detail


def test_parity_and_the_deployment_are_gates() -> None:
    facts = LiveFacts(
        FACTS.deployment,
        calibrated_at=NOW,
        parity="schedules differ: prefect fires 3 h later",
        worker_blocker="no live worker polls prefect work pool 'scheduler'",
    )
    gates = by_name(GOOD, facts)
    assert not gates["schedule_parity"].ok and "3 h later" in gates["schedule_parity"].detail
    assert not gates["deployment_ready"].ok and "no live worker" in gates["deployment_ready"].detail
    missing = by_name(GOOD, LiveFacts(None, calibrated_at=NOW))["deployment_ready"]
    assert not missing.ok and "names no Prefect deployment" in missing.detail


def test_an_ignore_rule_without_a_reason_is_a_gate() -> None:
    gates = evaluate(SETTINGS, GOOD, (IgnoreRule("*.x", " "),), FACTS)
    assert [g.name for g in unmet(gates)] == ["ignore_reasons"]


def test_business_date_from_the_result_then_the_schedule_instant() -> None:
    row = {"sides": {"airflow": {"document": {"result": {"business_date": "2026-11-30"}}}}}
    assert business_date(row) == "2026-11-30"
    assert business_date({"sides": {}, "scheduled_at": datetime(2026, 11, 29, 8, 30)}) == "2026-11-29"
    assert business_date({"sides": {"airflow": {"document": {"result": "hello"}}}}) is None
