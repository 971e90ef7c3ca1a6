"""The metrics from a store we fill: parsed by prometheus_client's own parser, each series with the values
the comparisons recorded; no run id among the labels; the textfile written atomically (a failed write
leaves the previous file whole and no temporary file behind); `bridge metrics` prints the same."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge import metrics, shadow
from bridge.backends.base import RunRef
from bridge.compare import model
from bridge.config import AirflowSettings, Catalog, PrefectSettings, WorkflowEntry
from bridge.cutover.ledger import Ledger
from bridge.store import Store, comparisons

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CATALOG = Catalog(
    None,
    AirflowSettings(),
    PrefectSettings(),
    {
        "a_daily": WorkflowEntry("a_daily", "a/a", "airflow"),
        "b_daily": WorkflowEntry("b_daily", "b/b", "airflow"),
    },
    sections={"metrics": {"window": 4}},
)


def _side(side: str, ran: float, waited: float) -> shadow.SideOutcome:
    ref = RunRef(side, "x", f"{side}-run-{ran}", "c")
    return shadow.SideOutcome(
        side, "success", f"{side}:run", T0, T0 + timedelta(seconds=ran), "", None, {}, ref, waited
    )


def _record(store: Store, workflow: str, verdict: str, origin: str, ran: float, at: datetime) -> int:
    result = shadow.ShadowResult(
        workflow,
        f"c-{workflow}-{at.timestamp()}",
        {},
        verdict,
        _side("airflow", ran, ran + 1),
        _side("prefect", ran * 2, ran * 2 + 1),
    )
    cid = shadow.record(store, result, origin=origin).comparison_id  # type: ignore[arg-type]
    assert cid is not None
    with store.engine.begin() as conn:
        conn.execute(comparisons.update().where(comparisons.c.id == cid).values(at=at))
    return cid


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'history.db'}")
    _record(s, "a_daily", model.MATCH, "manual", 1.0, T0)
    _record(s, "a_daily", model.MATCH, "scheduled", 2.0, T0 + timedelta(hours=1))
    _record(s, "a_daily", model.MISMATCH, "scheduled", 3.0, T0 + timedelta(hours=2))
    for i in range(4):  # b: 5 comparisons, the newest 4 (the window) are 3 matches and 1 shadow_failed
        _record(s, "b_daily", model.MATCH, "replay", 1.0, T0 + timedelta(minutes=i))
    _record(s, "b_daily", model.SHADOW_FAILED, "replay", 5.0, T0 + timedelta(minutes=9))
    Ledger(s).record("b_daily", "airflow", "shadow", actor="ana", reason="ported")
    return s


def _families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _samples(families: dict[str, Any], name: str, sample: str | None = None) -> dict[tuple[Any, ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value for s in families[name].samples if s.name == (sample or name)
    }


def test_every_series_has_the_values_the_store_holds(store: Store) -> None:
    fam = _families(metrics.exposition(store, CATALOG).decode())
    assert fam["bridge_comparisons"].type == "counter"
    assert _samples(fam, "bridge_comparisons", "bridge_comparisons_total") == {
        (("origin", "manual"), ("verdict", "match"), ("workflow", "a_daily")): 1,
        (("origin", "scheduled"), ("verdict", "match"), ("workflow", "a_daily")): 1,
        (("origin", "scheduled"), ("verdict", "mismatch"), ("workflow", "a_daily")): 1,
        (("origin", "replay"), ("verdict", "match"), ("workflow", "b_daily")): 4,
        (("origin", "replay"), ("verdict", "shadow_failed"), ("workflow", "b_daily")): 1,
    }
    ran = _samples(fam, "bridge_run_duration_seconds", "bridge_run_duration_seconds_sum")
    assert ran[(("side", "airflow"), ("workflow", "a_daily"))] == 6.0  # 1 + 2 + 3
    assert ran[(("side", "prefect"), ("workflow", "a_daily"))] == 12.0
    counts = _samples(fam, "bridge_run_waited_seconds", "bridge_run_waited_seconds_count")
    assert counts[(("side", "airflow"), ("workflow", "b_daily"))] == 5
    latest = _samples(fam, "bridge_last_run_duration_seconds")
    assert latest == {
        (("side", "airflow"), ("workflow", "a_daily")): 3.0,
        (("side", "prefect"), ("workflow", "a_daily")): 6.0,
        (("side", "airflow"), ("workflow", "b_daily")): 5.0,
        (("side", "prefect"), ("workflow", "b_daily")): 10.0,
    }
    last_match = _samples(fam, "bridge_last_match_timestamp_seconds")
    assert last_match[(("workflow", "a_daily"),)] == (T0 + timedelta(hours=1)).timestamp()
    assert (
        _samples(fam, "bridge_last_comparison_timestamp_seconds")[(("workflow", "b_daily"),)]
        == (T0 + timedelta(minutes=9)).timestamp()
    )
    assert _samples(fam, "bridge_consistency_ratio") == {
        (("workflow", "a_daily"),): pytest.approx(2 / 3),
        (("workflow", "b_daily"),): 0.75,  # window 4: 3 of the newest 4
    }
    assert _samples(fam, "bridge_stage_info") == {
        (("stage", "airflow"), ("workflow", "a_daily")): 1,
        (("stage", "shadow"), ("workflow", "b_daily")): 1,
    }
    labels = {k for f in fam.values() for s in f.samples for k in s.labels}
    assert labels <= {"workflow", "verdict", "origin", "side", "stage", "gate", "kind", "status", "quantile"}


def test_an_empty_store_exposes_no_sample_but_parses(tmp_path: Path) -> None:
    fam = _families(metrics.exposition(Store(f"sqlite:///{tmp_path / 'e.db'}")).decode())
    assert not fam["bridge_comparisons"].samples
    assert metrics.CONTENT_TYPE.startswith("text/plain; version=")


def test_the_textfile_is_written_atomically(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "textfile" / "bridge.prom"
    metrics.write_textfile(store, path, CATALOG)
    first = path.read_text()
    assert _families(first)["bridge_comparisons"].samples
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    _record(store, "a_daily", model.MATCH, "manual", 9.0, T0 + timedelta(days=1))

    def broken(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        metrics.write_textfile(store, path, CATALOG)
    assert path.read_text() == first  # the collector never sees half a file
    assert sorted(p.name for p in path.parent.iterdir()) == ["bridge.prom"]  # no temporary file left
    monkeypatch.undo()
    metrics.write_textfile(store, path, CATALOG)
    assert path.read_text() != first


def test_bridge_metrics_prints_or_writes_them(store: Store, tmp_path: Path) -> None:
    env = {**os.environ, "BRIDGE_STORE_URL": store.url, "BRIDGE_HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "bridge.cli", "metrics"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    assert "bridge_comparisons_total" in out
    target = tmp_path / "m.prom"
    done = subprocess.run(
        [*cmd, "--textfile", str(target)], env=env, capture_output=True, text=True, check=True
    )
    assert (
        done.stdout.strip() == f"wrote {target}" and _families(target.read_text())["bridge_consistency_ratio"]
    )
    bad = subprocess.run([*cmd, "--textfile", "/proc/nope/m.prom"], env=env, capture_output=True, text=True)
    assert (
        bad.returncode == 2
        and bad.stderr.count("\n") == 1
        and "cannot write the metrics textfile" in bad.stderr
    )


def test_the_textfile_setting_is_rewritten_after_comparisons(store: Store, tmp_path: Path) -> None:
    from bridge import followup

    catalog = dataclasses.replace(CATALOG, sections={"metrics": {"textfile": str(tmp_path / "t.prom")}})
    followup.after_comparisons(store, catalog, ["a_daily"])
    assert "bridge_gate_ok" in (tmp_path / "t.prom").read_text()
