"""Shadow logic with fake backends (our own logic only): the shadow side can never hurt the primary,
verdicts, normalization, noise, the store and its schema version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge import shadow
from bridge.backends.base import Observation, RunRef, RunState, RunStatus, TaskObservation
from bridge.compare import model
from bridge.compare.normalize import normalize
from bridge.compare.values import diff, varying_paths
from bridge.config import AirflowSettings, Catalog, IgnoreRule, PrefectSettings, ShadowSettings, WorkflowEntry
from bridge.errors import BackendUnavailableError, ConfigError
from bridge.operations import Backends
from bridge.report.data import streak
from bridge.store import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Fake:
    name: str
    result: Any
    fail_with: Exception | None = None
    state: RunState = RunState.SUCCESS

    def trigger(self, workflow_id: str, conf: Any, corr: str, at: Any = None) -> RunRef:
        if self.fail_with:
            raise self.fail_with
        self.conf = dict(conf)
        return RunRef(self.name, workflow_id, f"{self.name}-run-{corr}", corr, f"http://{self.name}/{corr}")

    def wait(self, ref: RunRef, timeout: float, progress: Any = None) -> RunStatus:
        return RunStatus(ref, self.state, T0, T0 + timedelta(seconds=2))

    def observe(self, ref: RunRef) -> Observation:
        return Observation(
            ref,
            self.state,
            {"t": TaskObservation("t", self.state, self.result)},
            self.result,
            T0,
            T0 + timedelta(seconds=2),
            None if self.state == RunState.SUCCESS else "boom",
            ref.url,
        )


ENTRY = WorkflowEntry(
    "wf", "wf-flow/wf", "shadow", shadow=ShadowSettings(target="shadow_x", primary_target="main")
)
CATALOG = Catalog(None, AirflowSettings(), PrefectSettings(), {"wf": ENTRY})


def _backends(airflow: Fake, prefect: Fake) -> Backends:
    b = Backends(CATALOG, env={})
    b._made = {"airflow": airflow, "prefect": prefect}  # type: ignore[dict-item]
    return b


def test_match_injects_the_shadow_target_and_normalizes_it() -> None:
    af = Fake("airflow", {"rows": 3, "target": "main"})
    pf = Fake("prefect", {"rows": 3, "target": "shadow_x"})
    result = shadow.run(_backends(af, pf), "wf", {"day": "2024-01-01"}, timeout=5)
    assert pf.conf == {"day": "2024-01-01", "target": "shadow_x"} and af.conf == {"day": "2024-01-01"}
    assert result.verdict == model.MATCH and result.differences == ()


def test_a_broken_shadow_never_changes_the_primary() -> None:
    af = Fake("airflow", {"rows": 3})
    pf = Fake("prefect", None, fail_with=BackendUnavailableError("prefect is unreachable"))
    result = shadow.run(_backends(af, pf), "wf", {}, timeout=5)
    assert result.verdict == model.SHADOW_FAILED
    assert result.primary.ok and result.primary.document["result"] == {"rows": 3}
    assert result.shadow.state == "unavailable" and "unreachable" in (result.shadow.error or "")
    crash = shadow.run(
        _backends(Fake("airflow", {}), Fake("prefect", None, fail_with=ZeroDivisionError("x"))),
        "wf",
        {},
        timeout=5,
    )
    assert crash.verdict == model.SHADOW_FAILED and crash.shadow.state == "error"


def test_primary_errors_raise_to_the_caller() -> None:
    with pytest.raises(BackendUnavailableError):
        shadow.run(
            _backends(Fake("airflow", None, fail_with=BackendUnavailableError("down")), Fake("prefect", {})),
            "wf",
            {},
            timeout=5,
        )


@pytest.mark.parametrize(
    "af_state,pf_state,verdict",
    [
        (RunState.FAILED, RunState.SUCCESS, model.PRIMARY_FAILED),
        (RunState.FAILED, RunState.FAILED, model.BOTH_FAILED),
        (RunState.SUCCESS, RunState.FAILED, model.SHADOW_FAILED),
    ],
)
def test_failure_verdicts(af_state: RunState, pf_state: RunState, verdict: str) -> None:
    result = shadow.run(
        _backends(Fake("airflow", 1, state=af_state), Fake("prefect", 1, state=pf_state)), "wf", {}, timeout=5
    )
    assert result.verdict == verdict


def test_a_changed_value_is_a_mismatch_row() -> None:
    result = shadow.run(
        _backends(Fake("airflow", {"price": "9.90"}), Fake("prefect", {"price": "9.99"})), "wf", {}, timeout=5
    )
    assert result.verdict == model.MISMATCH
    assert ("result.price", "9.90", "9.99", model.CHANGED) in {
        (d.path, d.airflow, d.prefect, d.kind) for d in result.differences
    }


def test_builtin_noise_rules() -> None:
    doc = {
        "run": "abc-123",
        "at": "2026-01-01T10:00:00Z",
        "url": "http://x/y",
        "duration_s": 3.2,
        "path": "/tmp/abc-123/out",
        "n": 5,
    }
    assert normalize(doc, ["abc-123"]) == {
        "run": "<run_id>",
        "at": "<timestamp>",
        "url": "<url>",
        "duration_s": "<duration>",
        "path": "/tmp/<run_id>/out",
        "n": 5,
    }


def test_float_tolerance_unordered_lists_and_ignore_rules() -> None:
    a = normalize({"x": 1.0, "items": [1, 2, 3], "v": "a"}, unordered=["items"])
    b = normalize({"x": 1.0 + 1e-12, "items": [3, 2, 1], "v": "b"}, unordered=["items"])
    assert diff(a, b, ignore=[IgnoreRule("v", "free text")]) == []
    assert [d.path for d in diff(a, b)] == ["v"]
    assert [d.path for d in diff({"x": 1.0}, {"x": 1.1}, float_tolerance=1e-9)] == ["x"]


def test_calibrated_noise_is_shown_as_noise_not_dropped() -> None:
    docs = [{"lucky": 1, "n": 5}, {"lucky": 7, "n": 5}, {"lucky": 9, "n": 5}]
    noise = varying_paths(docs)
    assert noise == {"lucky"}
    rows = diff({"lucky": 1, "n": 5}, {"lucky": 2, "n": 5}, noise=noise)
    assert [(r.path, r.kind) for r in rows] == [("lucky", model.NOISE)]
    assert (
        shadow.decide(
            shadow.SideOutcome("airflow", "success"), shadow.SideOutcome("prefect", "success"), rows, []
        )
        == model.MATCH
    )


def test_ignore_rules_need_a_reason(tmp_path: Path) -> None:
    from bridge import config

    path = tmp_path / "bridge.toml"
    path.write_text('[workflows.w]\ndeployment = "f/w"\n[[workflows.w.shadow.ignore]]\npath = "result.x"\n')
    with pytest.raises(ConfigError, match="written reason"):
        config.load(path, env={})


def test_store_round_trip_and_streak(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    for value in ("9.90", "9.90", "9.99"):
        result = shadow.run(
            _backends(Fake("airflow", {"p": "9.90"}), Fake("prefect", {"p": value})), "wf", {}, timeout=5
        )
        store.record(result)
    history = store.history("wf")
    assert [h["verdict"] for h in history] == [model.MISMATCH, model.MATCH, model.MATCH]
    assert streak(history) == {"verdict": model.MISMATCH, "count": 1}
    assert store.details(history[0]["id"])["differences"][0]["path"] == "result.p"
    assert history[0]["sides"]["prefect"]["url"].startswith("http://prefect/")
    store.set_noise("wf", ["result.lucky"], 3)
    assert store.noise_paths("wf") == ["result.lucky"]


def test_a_newer_store_is_refused(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'h.db'}"
    Store(url)
    with sa.create_engine(url).begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = 99"))
    with pytest.raises(ConfigError, match="schema version 99"):
        Store(url)


def test_an_older_store_is_migrated(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'h.db'}"
    Store(url)
    with sa.create_engine(url).begin() as conn:  # make it look like a version-1 store
        conn.execute(sa.text("ALTER TABLE observations DROP COLUMN elapsed_s"))
        conn.execute(sa.text("UPDATE schema_version SET version = 1"))
    store = Store(url)
    store.record(shadow.run(_backends(Fake("airflow", 1), Fake("prefect", 1)), "wf", {}, timeout=5))
    assert store.history("wf")[0]["sides"]["airflow"]["elapsed_s"] is not None
    with sa.create_engine(url).connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM schema_version")).scalar() == 2


def _shadow_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, airflow: Fake, prefect: Fake, fail_on_mismatch: bool
) -> tuple[Any, str]:
    """`--shadow` as the console runs it (store and report under a temporary home); the error it raised."""
    import dataclasses
    import io

    from bridge.console import Options, shadow_run

    monkeypatch.setenv("BRIDGE_HOME", str(tmp_path))
    backends = _backends(airflow, prefect)
    backends.catalog = dataclasses.replace(CATALOG, store_url=f"sqlite:///{tmp_path / 'h.db'}")
    out = io.StringIO()
    try:
        shadow_run(backends, "wf", {}, Options(fail_on_mismatch=fail_on_mismatch), out, io.StringIO())
    except Exception as exc:
        return exc, out.getvalue()
    return None, out.getvalue()


def test_a_mismatch_prints_its_verdict_then_raises_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridge.errors import MismatchError, RunFailedError

    error, out = _shadow_cli(tmp_path, monkeypatch, Fake("airflow", 1), Fake("prefect", 2), True)
    assert isinstance(error, MismatchError) and error.exit_code == 4
    assert out.startswith("shadow wf: mismatch (")
    error, out = _shadow_cli(tmp_path, monkeypatch, Fake("airflow", 1), Fake("prefect", 2), False)
    assert error is None and out.startswith("shadow wf: mismatch (")
    failed = Fake("airflow", 1, state=RunState.FAILED)
    error, out = _shadow_cli(tmp_path, monkeypatch, failed, Fake("prefect", 1), True)
    assert isinstance(error, RunFailedError) and error.exit_code == 1
    assert out.startswith("shadow wf: primary_failed (")
