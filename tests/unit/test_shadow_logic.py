"""Shadow logic with fake backends (our own logic only): the shadow side can never hurt the primary,
verdicts, normalization, noise, the store and its schema version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge import shadow
from bridge.backends.base import Observation, Readiness, RunRef, RunState, RunStatus, TaskObservation
from bridge.compare import model
from bridge.compare.normalize import RunIdentity, normalize
from bridge.compare.values import diff, spreads
from bridge.config import AirflowSettings, Catalog, IgnoreRule, PrefectSettings, ShadowSettings, WorkflowEntry
from bridge.errors import BackendUnavailableError, ConfigError, NotStartingError, PausedWorkflowError
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
    paused: bool = False
    blocker: str | None = None
    resumed: bool = False
    triggered: bool = False

    def readiness(self, workflow_id: str) -> Readiness:
        return Readiness(paused=self.paused and not self.resumed, blocker=self.blocker)

    def resume(self, workflow_id: str) -> None:
        self.resumed = True

    def trigger(self, workflow_id: str, conf: Any, corr: str, at: Any = None) -> RunRef:
        if self.fail_with:
            raise self.fail_with
        self.triggered = True
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
    "wf",
    "wf-flow/wf",
    "shadow",
    shadow=ShadowSettings(target="shadow_x", primary_target="main", discover=False),
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


def test_a_paused_primary_is_refused_before_either_side_runs_unless_unpaused() -> None:
    af, pf = Fake("airflow", {"rows": 3}, paused=True), Fake("prefect", {"rows": 3})
    with pytest.raises(PausedWorkflowError, match="--unpause"):
        shadow.run(_backends(af, pf), "wf", {}, timeout=5)
    assert not af.triggered and not pf.triggered and not af.resumed
    said: list[str] = []
    result = shadow.run(_backends(af, pf), "wf", {}, timeout=5, unpause=True, say=said.append)
    assert (
        af.resumed
        and result.verdict == model.MATCH
        and said == ["unpaused wf on airflow (--unpause): its schedule runs again from now"]
    )


def test_a_primary_that_cannot_start_is_refused_a_shadow_that_cannot_is_unavailable() -> None:
    af, pf = Fake("airflow", {}, blocker="airflow's scheduler is not running"), Fake("prefect", {})
    with pytest.raises(NotStartingError, match="scheduler is not running; not triggered"):
        shadow.run(_backends(af, pf), "wf", {}, timeout=5)
    assert not af.triggered and not pf.triggered
    af, pf = (
        Fake("airflow", {"rows": 1}),
        Fake("prefect", {"rows": 1}, blocker="no live worker polls pool 'p'"),
    )
    result = shadow.run(_backends(af, pf), "wf", {}, timeout=5)
    assert result.primary.ok and not pf.triggered
    assert result.shadow.state == "unavailable" and "no live worker polls pool 'p'" in (
        result.shadow.error or ""
    )


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


def test_only_the_runs_own_values_are_masked_never_a_shape() -> None:
    start, end = T0, T0 + timedelta(seconds=2)
    me = RunIdentity.of(["abc-123"], ["main"], ["http://x/runs/abc-123"], start, end)
    doc = {
        "run": "abc-123",
        "started": "2026-01-01T00:00:00+00:00",
        "ended": "2026-01-01T00:00:02Z",
        "watermark": "2026-01-01T00:00:01Z",  # a time that is not the run's own: data, compared
        "url": "http://x/runs/abc-123",
        "other_url": "http://docs/page",
        "duration_s": 3.2,  # a number under a duration-like key: compared (calibrate or ignore it)
        "path": "/tmp/abc-123/out",
        "queue": "orders-main-dlq",
        "n": 5,
    }
    assert normalize(doc, me) == {
        "run": "<run_id>",
        "started": "<run_start>",
        "ended": "<run_end>",
        "watermark": "2026-01-01T00:00:01Z",
        "url": "<url>",
        "other_url": "http://docs/page",
        "duration_s": 3.2,
        "path": "/tmp/<run_id>/out",
        "queue": "orders-<target>-dlq",
        "n": 5,
    }


def test_a_wrong_watermark_is_a_difference() -> None:
    a = normalize({"watermark_after": "2024-12-31T18:54:42"}, RunIdentity.of(["r1"], ["main"]))
    b = normalize({"watermark_after": "2026-12-02T04:00:00"}, RunIdentity.of(["r2"], ["shadow_x"]))
    assert [(d.path, d.kind) for d in diff(a, b)] == [("watermark_after", model.CHANGED)]


def test_float_tolerance_unordered_lists_and_ignore_rules() -> None:
    a = normalize({"x": 1.0, "items": [1, 2, 3], "v": "a"}, unordered=["items"])
    b = normalize({"x": 1.0 + 1e-12, "items": [3, 2, 1], "v": "b"}, unordered=["items"])
    (ignored,) = diff(a, b, ignore=[IgnoreRule("v", "free text")])
    assert (ignored.path, ignored.kind, ignored.note) == ("v", model.IGNORED, "free text")
    assert [(d.path, d.kind) for d in diff(a, b)] == [("v", model.CHANGED)]
    assert [d.path for d in diff({"x": 1.0}, {"x": 1.1}, float_tolerance=1e-9)] == ["x"]


def test_noise_has_a_size_and_counts_only_within_it() -> None:
    docs = [
        {"lucky": "a1", "n": 5, "ms": 10.0},
        {"lucky": "b2", "n": 5, "ms": 12.5},
        {"lucky": "c3", "n": 5, "ms": 11},
    ]
    noise = spreads(docs)
    assert [(n.path, n.abs_spread, n.varies) for n in noise] == [("lucky", None, True), ("ms", 2.5, False)]
    assert noise[1].rel_spread == pytest.approx(0.2)
    within = diff({"lucky": "x", "ms": 10.0}, {"lucky": "y", "ms": 12.0}, noise=noise)
    assert [(r.path, r.kind) for r in within] == [("lucky", model.NOISE), ("ms", model.NOISE)]
    assert within[1].note == "calibrated noise (±2.5 (20.0%))"
    assert (
        shadow.decide(
            shadow.SideOutcome("airflow", "success"), shadow.SideOutcome("prefect", "success"), within, []
        )
        == model.MATCH
    )
    (outside,) = diff({"ms": 10.0}, {"ms": 19.0}, noise=noise)
    assert outside.kind == model.CHANGED and outside.note == "outside calibrated noise (seen ±2.5 (20.0%))"
    # a path whose controls never varied is no noise at all: a double count stays a difference
    (counted,) = diff({"n": 5}, {"n": 10}, noise=noise)
    assert counted.kind == model.CHANGED and counted.note == ""


def test_the_verdict_line_counts_values_rows_and_what_was_set_aside() -> None:
    rows = [
        model.Difference("a", 1, 2, model.CHANGED),
        model.Difference("b", 1, 2, model.CHANGED),
        model.Difference("c", 1, 2, model.IGNORED, note="why"),
    ]
    table = model.TableDiff("price_history", ("id",), 10, 8, only_airflow_count=2, changed_count=3)
    assert model.Tally.of(rows, [table]).describe() == "2 values, 5 rows in price_history, 1 ignored"
    one_side = model.TableDiff("products_backup", ("id",), 0, 4, present="prefect")
    assert not one_side.equal
    assert "table products_backup in one target only" in model.Tally.of([], [one_side]).describe()


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
    calibration = model.Calibration(
        "wf",
        T0,
        3,
        ("calib1_main", "calib2_main", "calib3_main"),
        ("f1", "f1", "f1"),
        (model.NoiseSpread("result.lucky"), model.NoiseSpread("result.ms", 2.5, 0.2)),
    )
    store.record_calibration(calibration)
    assert store.noise_paths("wf") == list(calibration.noise)
    assert store.calibrations("wf") == [calibration]
    assert history[0]["summary"] == "mismatch (2 values)"  # result.p and tasks.t.value.p


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
        conn.execute(sa.text("ALTER TABLE observations DROP COLUMN task_times"))
        for table, column in (
            ("comparisons", "summary"),
            ("comparisons", "deployment"),
            ("comparisons", "scheduled_at"),
            ("comparisons", "origin"),
            ("noise", "abs_spread"),
            ("noise", "rel_spread"),
        ):
            conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(sa.text("DROP TABLE calibrations"))
        conn.execute(sa.text("UPDATE schema_version SET version = 1"))
    store = Store(url)
    store.record(shadow.run(_backends(Fake("airflow", 1), Fake("prefect", 1)), "wf", {}, timeout=5))
    assert store.history("wf")[0]["sides"]["airflow"]["elapsed_s"] is not None
    assert store.history("wf")[0]["sides"]["airflow"]["task_times"] is not None  # v5: each task's time
    with sa.create_engine(url).connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM schema_version")).scalar() == 5


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


def test_a_store_that_cannot_be_written_says_so_in_one_line(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from bridge.errors import StoreError

    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = Store(url)
    with sa.create_engine(url).begin() as conn:  # a store damaged behind the bridge's back
        conn.execute(sa.text("DROP TABLE differences"))
    result = shadow.run(_backends(Fake("airflow", 1), Fake("prefect", 2)), "wf", {}, timeout=5)
    with pytest.raises(StoreError, match=r"cannot write the history store at sqlite:///.*differences"):
        store.record(result)
    with sa.create_engine(url).connect() as conn:  # nothing half-written
        assert conn.execute(sa.text("SELECT COUNT(*) FROM comparisons")).scalar() == 0


def test_outputs_that_cannot_be_reached_are_a_mismatch_never_a_match() -> None:
    """The targets' database is down (nothing listens on port 1): both sides ran, the tables could not be
    compared, and the verdict says so instead of a match or a crash after the primary ran."""
    import dataclasses

    entry = dataclasses.replace(ENTRY, shadow=dataclasses.replace(ENTRY.shadow, discover=True))
    catalog = dataclasses.replace(
        CATALOG, workflows={"wf": entry}, warehouse_url="postgresql://postgres@127.0.0.1:1/nowhere"
    )
    backends = Backends(catalog, env={})
    backends._made = {"airflow": Fake("airflow", 1), "prefect": Fake("prefect", 1)}  # type: ignore[dict-item]
    result = shadow.run(backends, "wf", {}, timeout=5)
    assert result.verdict == model.MISMATCH and result.primary.ok
    (table,) = result.tables
    assert table.error and "127.0.0.1:1" in table.error and "not compared" in result.verdict_line
