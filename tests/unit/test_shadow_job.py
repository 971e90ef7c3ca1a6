"""The shadow job (``bridge.shadow.run_and_record``): one owner of run both -> compare -> record, its
origin model, and every caller (CLI --shadow and --at, replay, demo) recording through it with its origin."""

from __future__ import annotations

import dataclasses
import io
import json
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bridge import shadow
from bridge.compare.model import NoiseSpread
from bridge.errors import UsageError
from bridge.store import Store
from tests.unit.test_shadow_logic import CATALOG, Fake, _backends

AT = datetime(2024, 12, 31, 8, 30, tzinfo=UTC)


class MemoryStore:
    """What the job needs of a store, in memory."""

    def __init__(self, noise: list[NoiseSpread] | None = None) -> None:
        self.noise = noise or []
        self.recorded: list[shadow.ShadowResult] = []

    def noise_paths(self, workflow: str) -> list[NoiseSpread]:
        return self.noise

    def record(self, comparison: shadow.ShadowResult) -> int:
        self.recorded.append(comparison)
        return 40 + len(self.recorded)


def test_the_origins_are_the_four_of_the_model() -> None:
    assert shadow.ORIGINS == ("manual", "scheduled", "replay", "calibration")
    assert typing.get_args(shadow.Origin) == shadow.ORIGINS
    assert [shadow.check_origin(o) for o in shadow.ORIGINS] == list(shadow.ORIGINS)
    with pytest.raises(UsageError, match="unknown comparison origin 'cron'; use one of manual, scheduled"):
        shadow.check_origin("cron")


def test_the_job_runs_compares_records_and_returns_the_recorded_comparison() -> None:
    store = MemoryStore()
    result = shadow.run_and_record(
        store, _backends(Fake("airflow", 1), Fake("prefect", 1)), "wf", {}, origin="scheduled", timeout=5
    )
    assert (result.verdict, result.origin, result.comparison_id) == ("match", "scheduled", 41)
    (recorded,) = store.recorded
    assert recorded.origin == "scheduled" and recorded.correlation_id == result.correlation_id


def test_the_job_compares_with_the_stores_calibrated_noise() -> None:
    store = MemoryStore([NoiseSpread("result", 5.0, None), NoiseSpread("tasks.t.value", 5.0, None)])
    result = shadow.run_and_record(
        store, _backends(Fake("airflow", 1), Fake("prefect", 2)), "wf", {}, origin="manual", timeout=5
    )
    assert result.verdict == "match" and [d.kind for d in result.set_aside] == ["noise", "noise"]


def test_an_unknown_origin_runs_nothing_and_a_failed_primary_records_nothing() -> None:
    store, airflow = MemoryStore(), Fake("airflow", 1)
    with pytest.raises(UsageError):
        shadow.run_and_record(
            store,
            _backends(airflow, Fake("prefect", 1)),
            "wf",
            {},
            origin="cron",  # type: ignore[arg-type]
            timeout=5,
        )
    assert not airflow.triggered
    broken = Fake("airflow", 1, fail_with=RuntimeError("no trigger"))
    with pytest.raises(RuntimeError):
        shadow.run_and_record(
            store, _backends(broken, Fake("prefect", 1)), "wf", {}, origin="manual", timeout=5
        )
    assert store.recorded == []


def _cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: datetime | None
) -> tuple[dict[str, Any], Store]:
    from bridge.console import Options, shadow_run

    monkeypatch.setenv("BRIDGE_HOME", str(tmp_path))
    backends = _backends(Fake("airflow", 1), Fake("prefect", 1))
    backends.catalog = dataclasses.replace(CATALOG, store_url=f"sqlite:///{tmp_path / 'h.db'}")
    out = io.StringIO()
    shadow_run(backends, "wf", {}, Options(as_json=True, at=at), out, io.StringIO())
    return json.loads(out.getvalue()), Store(backends.catalog.store_url)


def test_the_cli_shadow_is_manual_and_with_at_a_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc, store = _cli(tmp_path, monkeypatch, None)
    assert doc["origin"] == "manual" and store.details(doc["comparison_id"])["origin"] == "manual"
    doc, store = _cli(tmp_path, monkeypatch, AT)
    assert doc["origin"] == "replay" and doc["at"].startswith("2024-12-31T08:30:00")
    assert [h["origin"] for h in store.history("wf")] == ["replay", "manual"]
    report = (tmp_path / "reports" / "wf.html").read_text()
    assert '<td class="origin"><code>replay</code></td>' in report and "origin <code>replay</code>" in report


def test_a_replay_records_each_instant_as_a_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge import replay

    store = MemoryStore()
    schedule = replay.Schedule("wf", "30 8 * * *", "UTC")
    seen: list[shadow.ShadowResult] = []
    results = replay.replay(
        store,
        _backends(Fake("airflow", 1), Fake("prefect", 1)),
        "wf",
        AT,
        datetime(2025, 1, 1, 8, 30, tzinfo=UTC),
        timeout=5,
        on_result=seen.append,
        schedule=schedule,
    )
    assert [(r.at, r.origin, r.comparison_id) for r in results] == [
        (AT, "replay", 41),
        (datetime(2025, 1, 1, 8, 30, tzinfo=UTC), "replay", 42),
    ]
    assert seen == results
    assert [r.origin for r in store.recorded] == ["replay", "replay"]


def test_the_reports_show_each_comparisons_origin(tmp_path: Path) -> None:
    from bridge.report import render
    from bridge.report.data import build

    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    backends = _backends(Fake("airflow", 1), Fake("prefect", 1))
    shadow.run_and_record(store, backends, "wf", {}, origin="manual", timeout=5)
    shadow.run_and_record(store, backends, "wf", {}, origin="scheduled", timeout=5)
    report = build(store, CATALOG, "wf")
    (flow,) = report["workflows"]
    assert flow["latest"]["origin"] == "scheduled"
    assert [h["origin"] for h in flow["history"]] == ["scheduled", "manual"]
    assert json.loads(render(report, "json"))["workflows"][0]["history"][1]["origin"] == "manual"
    md = render(report, "md")
    assert "Origin: `scheduled`" in md and "| Origin |" in md.replace("Verdict | Origin", "| Origin |")
