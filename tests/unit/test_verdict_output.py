"""Nothing is dropped silently: the verdict line counts values and rows; ignored and noise rows are listed
apart with their reason or spread in the CLI line, --json and every report format; keys holding a date
print as JSON; progress names the workflow by its DAG id, the Prefect deployment once. (Our own
rendering, over a hand-made comparison: no orchestrator runs.)"""

from __future__ import annotations

import dataclasses
import html
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge import shadow
from bridge.backends.base import RunRef, RunState, RunStatus
from bridge.compare import model
from bridge.config import AirflowSettings, Catalog, PrefectSettings, WorkflowEntry
from bridge.console import Options
from bridge.console.shadow import ShadowProgress, result_json, result_lines, shadow_run
from bridge.errors import MismatchError
from bridge.report import render
from bridge.report.data import build, calibrations, comparison
from bridge.store import Store

DAG = "update_prices_daily"
DEPLOYMENT = "update-prices-daily/update_prices_daily"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
AT = datetime(2024, 12, 31, 9, 0, tzinfo=UTC)
REASON = "the run's own wall clock, set by the scheduler"
LINE = "mismatch (2 values, 5 rows in price_history, 3 ignored)"
KEY_JSON = '[357, "2024-12-31"]'
CATALOG = Catalog(None, AirflowSettings(), PrefectSettings(), {DAG: WorkflowEntry(DAG, DEPLOYMENT, "shadow")})


def _side(side: str, state: str) -> shadow.SideOutcome:
    return shadow.SideOutcome(
        side, state, f"{side}:run-1", T0, T0 + timedelta(seconds=3), f"http://{side}/run-1", elapsed_s=3.2
    )


def mismatch() -> shadow.ShadowResult:
    """2 value differences, 3 ignored, 1 noise; price_history with 5 rows differing, keyed by a date; a
    table in Prefect's target only; an excluded table; an equal one."""
    differences = (
        model.Difference("result.checksum", "ab12", "cd34", model.CHANGED),
        model.Difference(
            "result.elapsed_ms", 10.0, 19.0, model.CHANGED, "outside calibrated noise (seen ±2.5 (20.0%))"
        ),
        *(model.Difference(f"result.run_at_{i}", "09:00", "09:01", model.IGNORED, REASON) for i in range(3)),
        model.Difference("result.ms", 10.5, 12.5, model.NOISE, "calibrated noise (±2.5 (20.0%))"),
    )
    tables = (
        model.TableDiff(
            "price_history",
            ("product_id", "business_date"),
            261,
            259,
            only_airflow=((357, date(2024, 12, 31)), (358, date(2024, 12, 31))),
            changed=(model.ChangedRow((7, date(2024, 12, 31)), ("price",)),),
            only_airflow_count=2,
            changed_count=3,
            scope="business_date = '2024-12-31'",
        ),
        model.TableDiff("products", ("id",), 500, 500, scope="written in this run"),
        model.TableDiff("etl_runs", ("run_id",), 0, 0, excluded="a run log"),
    )
    return shadow.ShadowResult(
        DAG,
        "c-1",
        {"business_date": "2024-12-31"},
        model.MISMATCH,
        _side("airflow", "success"),
        _side("prefect", "success"),
        differences,
        tables,
        wall_s=3.9,
        deployment=DEPLOYMENT,
        at=AT,
    )


def test_the_verdict_line_counts_values_rows_in_a_table_and_ignored_exactly() -> None:
    result = dataclasses.replace(mismatch(), differences=mismatch().differences[:5])  # without the noise
    assert result.verdict_line == LINE
    assert mismatch().verdict_line == "mismatch (2 values, 5 rows in price_history, 3 ignored, 1 noise)"
    first = result_lines(result, "/r.html")[0]
    assert first.startswith(
        f"shadow {DAG}: {LINE}; airflow success (waited 3.2 s, ran 3.0 s), prefect success (waited 3.2 s, ran 3.0 s), wall 3.9 s"
    )
    assert first.endswith("; report: /r.html") and "as scheduled at 2024-12-31T09:00:00+00:00" in first


def test_the_cli_lists_real_differences_then_set_aside_rows_then_tables_with_keys_as_json() -> None:
    lines = result_lines(mismatch(), "/r.html")
    text = "\n".join(lines)
    assert "datetime" not in text and "(357," not in text
    real = [i for i, line in enumerate(lines) if line.startswith("  changed ")]
    aside = lines.index("  set aside, not counted (3 ignored, 1 noise):")
    assert real and max(real) < aside
    assert lines[real[1]].endswith("(outside calibrated noise (seen ±2.5 (20.0%)))")
    assert lines[aside + 1] == f'    ignored  result.run_at_0: airflow="09:00" prefect="09:01"  ({REASON})'
    assert (
        lines[aside + 4]
        == "    noise    result.ms: airflow=10.5 prefect=12.5  (within calibrated noise, seen ±2.5 (20.0%))"
    )
    table = next(line for line in lines if line.startswith("  table price_history"))
    assert table.startswith("  table price_history (business_date = '2024-12-31'): 5 rows differ")
    assert f'only airflow 2 [{KEY_JSON}, [358, "2024-12-31"]]' in table
    assert 'changed 3 [[7, "2024-12-31"] (price)]' in table
    assert "  table etl_runs: excluded, not compared: a run log" in lines
    assert lines[-1] == "  tables equal: products (written in this run)"
    one_side = dataclasses.replace(
        mismatch(), tables=(model.TableDiff("backup", ("id",), 0, 4, present="prefect"),)
    )
    assert "  table backup (whole table): only in prefect's target, 4 rows" in result_lines(one_side, "r")


def test_json_output_has_the_verdict_line_tally_set_aside_deployment_and_keys_as_json() -> None:
    doc = json.loads(json.dumps(result_json(mismatch(), "/r.html")))  # plain JSON: no default= needed
    assert doc["verdict_line"] == "mismatch (2 values, 5 rows in price_history, 3 ignored, 1 noise)"
    assert doc["tally"] == {
        "values": 2,
        "rows": {"price_history": 5},
        "tables_one_side": [],
        "table_errors": [],
        "ignored": 3,
        "noise": 1,
        "real": 7,
    }
    assert doc["deployment"] == DEPLOYMENT and doc["workflow"] == DAG
    assert doc["at"] == "2024-12-31T09:00:00+00:00"
    assert [d["path"] for d in doc["differences"]] == ["result.checksum", "result.elapsed_ms"]
    assert [(d["kind"], d["note"]) for d in doc["set_aside"]][:1] == [("ignored", REASON)]
    assert [d["kind"] for d in doc["set_aside"]] == ["ignored"] * 3 + ["noise"]
    assert doc["tables"][0]["only_airflow"][0] == [357, "2024-12-31"]
    assert doc["tables"][0]["changed"][0]["key"] == [7, "2024-12-31"]
    assert doc["tables"][2]["excluded"] == "a run log"


def _shadow_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opts: Options, result: shadow.ShadowResult
) -> tuple[str, str, Exception | None]:
    """`--shadow` as the console runs it, over a canned comparison that reports progress on both sides."""
    monkeypatch.setenv("BRIDGE_HOME", str(tmp_path))

    def run(backends: Any, dag_id: str, conf: Any, **kw: Any) -> shadow.ShadowResult:
        progress = kw["progress"]
        progress("airflow", RunStatus(RunRef("airflow", dag_id, "r1", "c-1"), RunState.RUNNING), 1.0)
        progress("prefect", RunStatus(RunRef("prefect", DEPLOYMENT, "r2", "c-1"), RunState.RUNNING), 1.5)
        progress("prefect", RunStatus(RunRef("prefect", DEPLOYMENT, "r2", "c-1"), RunState.SUCCESS), 3.0)
        return result

    monkeypatch.setattr(shadow, "run", run)
    backends = type(
        "B", (), {"catalog": dataclasses.replace(CATALOG, store_url=f"sqlite:///{tmp_path}/h.db")}
    )
    out, err = io.StringIO(), io.StringIO()
    try:
        shadow_run(backends, DAG, {}, opts, out, err)
    except Exception as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def test_shadow_run_names_the_dag_id_and_raises_with_the_verdict_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, err, exc = _shadow_cli(tmp_path, monkeypatch, Options(fail_on_mismatch=True), mismatch())
    assert isinstance(exc, MismatchError) and str(exc) == f"shadow {DAG}: {mismatch().verdict_line}"
    assert out.startswith(f"shadow {DAG}: {mismatch().verdict_line}; airflow success")
    progress = err.splitlines()
    assert progress and all(line.startswith(f"shadow {DAG}: ") for line in progress), progress
    assert [line for line in progress if DEPLOYMENT in line] == [
        f"shadow {DAG}: prefect deployment {DEPLOYMENT}"
    ]
    again = dataclasses.replace(mismatch(), correlation_id="c-2")
    out, _, exc = _shadow_cli(tmp_path, monkeypatch, Options(as_json=True), again)
    assert exc is None and json.loads(out)["verdict_line"] == mismatch().verdict_line


def test_progress_learns_the_dag_id_from_airflow_when_not_told() -> None:
    stream = io.StringIO()
    progress = ShadowProgress(stream)
    progress("airflow", RunStatus(RunRef("airflow", DAG, "r1", "c"), RunState.QUEUED), 0.0)
    for second in (1.0, 2.0):
        progress("prefect", RunStatus(RunRef("prefect", DEPLOYMENT, "r2", "c"), RunState.RUNNING), second)
    lines = stream.getvalue().splitlines()
    assert all(line.startswith(f"shadow {DAG}: ") for line in lines), lines
    assert sum(DEPLOYMENT in line for line in lines) == 1


def _reports(tmp_path: Path, result: shadow.ShadowResult) -> dict[str, str]:
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    store.record(result)
    store.record_calibration(
        model.Calibration(
            DAG,
            T0,
            2,
            ("calib1_main", "calib2_main"),
            ("f", "f"),
            (model.NoiseSpread("result.ms", 2.5, 0.2),),
        )
    )
    report = build(store, CATALOG, DAG)
    return {fmt: render(report, fmt) for fmt in ("json", "md", "html")}


def test_every_report_format_shows_the_verdict_line_ignored_reasons_spreads_and_json_keys(
    tmp_path: Path,
) -> None:
    reports = _reports(tmp_path, mismatch())
    for fmt, text in reports.items():
        shown = html.unescape(text) if fmt == "html" else text
        assert "datetime" not in shown and "(357," not in shown, fmt
        assert mismatch().verdict_line[len("mismatch (") : -1] in shown, fmt
        assert REASON in shown and "result.run_at_2" in shown, fmt
        assert "2.5" in shown and "calib1_main" in shown, fmt
        assert "business_date = '2024-12-31'" in shown and "a run log" in shown, fmt
    assert KEY_JSON in reports["md"] and html.escape(KEY_JSON) in reports["html"]
    latest = json.loads(reports["json"])["workflows"][0]["latest"]
    assert latest["verdict_line"] == mismatch().verdict_line
    assert latest["tables"][0]["only_airflow"][0] == [357, "2024-12-31"]
    assert [d["kind"] for d in latest["set_aside"]] == ["ignored"] * 3 + ["noise"]
    assert all(d["kind"] == "changed" for d in latest["differences"])
    assert f'| `result.run_at_0` | `"09:00"` | `"09:01"` | `ignored` | `{REASON}` |' in reports["md"]
    assert (
        "| `result.ms` | `10.5` | `12.5` | `noise` | `within calibrated noise, seen ±2.5 (20.0%)` |"
        in reports["md"]
    )
    workflow = json.loads(reports["json"])["workflows"][0]
    assert workflow["deployment"] == DEPLOYMENT
    assert workflow["calibrations"][0]["noise"][0]["seen"] == "±2.5 (20.0%)"


def test_old_stored_rows_get_defaults_and_a_verdict_line() -> None:
    stored = {
        "differences": [
            {"path": "result.p", "airflow": 1, "prefect": 2, "kind": "changed", "note": ""},
            {"path": "result.d", "airflow": 1, "prefect": 2, "kind": "noise", "note": ""},
        ],
        "tables": [
            {"table": "t", "key": ["id"], "only_airflow_count": 2, "changed_count": 1, "equal": False}
        ],
    }
    found = comparison("mismatch", None, stored)
    assert found["verdict_line"] == "mismatch (1 value, 3 rows in t, 1 noise)"
    assert found["tables"][0]["scope"] == "whole table" and found["tables"][0]["present"] == "both"
    assert found["tables"][0]["rows_differing"] == 3 and found["tables"][0]["excluded"] is None
    assert [d["path"] for d in found["set_aside"]] == ["result.d"]
    assert comparison("mismatch", "kept line", stored)["verdict_line"] == "kept line"
    assert calibrations(object(), DAG) is None  # a store without calibration history: nothing to show


def test_the_demo_table_counts_what_the_verdict_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge import demo

    monkeypatch.setattr(shadow, "run", lambda *a, **kw: mismatch())
    recorded: list[Any] = []
    store = type(
        "S", (), {"noise_paths": lambda self, dag: [], "record": lambda self, r: recorded.append(r) or 1}
    )()
    backends = type("B", (), {"catalog": CATALOG})
    named: list[str] = []
    said: list[str] = []
    rows = demo.run_all(backends, store, {DAG: {}}, progress=lambda d: named.append(d), say=said.append)
    assert named == [DAG] and recorded and f"shadow {DAG}: {mismatch().verdict_line}" in said
    assert [r.origin for r in recorded] == ["manual"]  # the demo's shadows are someone's, by hand
    (row,) = rows
    assert row.differences == mismatch().tally.real == 7 and row.set_aside == 4
    header, line = demo.table(rows).splitlines()
    assert header.split()[-2:] == ["DIFFS", "ASIDE"] and line.split()[-2:] == ["7", "4"]
