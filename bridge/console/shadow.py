"""Shadow runs, calibration and reports: both orchestrators at once, compared and recorded."""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from bridge.backends.base import RunStatus
from bridge.console.common import Options, backends_for


class ShadowProgress:
    """One line for both sides while a shadow run waits. The workflow is named by its DAG id on every
    line; a side that knows it by another name (Prefect: its deployment) has that name shown once."""

    def __init__(self, stream: IO[str], dag_id: str | None = None, verb: str = "shadow") -> None:
        import threading

        self.stream = stream
        self.verb = verb  # what the lines say is going on: shadow, calibrate
        self.dag_id = dag_id  # None: learnt from the Airflow side, which knows the workflow by its DAG id
        self.lock = threading.Lock()
        self.states: dict[str, str] = {}
        self.named: set[tuple[str, str]] = set()
        self.last = ""
        self.last_at = -1.0

    def __call__(self, side: str, status: RunStatus, elapsed: float) -> None:
        with self.lock:
            own = status.ref.workflow_id
            if self.dag_id is None and side == "airflow":
                self.dag_id = own
            name = self.dag_id or own
            if own != name and (side, own) not in self.named:
                self.named.add((side, own))
                self.stream.write(f"{self.verb} {name}: {side} deployment {own}\n")
            if side not in self.states:  # its run id before any wait, so Ctrl-C leaves nothing unnamed
                from bridge.backends.base import run_label

                run = run_label(status.ref)
                self.stream.write(f"{self.verb} {name}: {side} run {run} (follow it: bridge status {run})\n")
            self.states[side] = status.state.value
            line = " | ".join(f"{s}: {self.states[s]}" for s in sorted(self.states))
            if line != self.last or elapsed - self.last_at >= 15:
                self.stream.write(f"{self.verb} {name}: {line} ({elapsed:.0f} s)\n")
                self.stream.flush()
                self.last, self.last_at = line, elapsed


def store_for(backends: Any) -> Any:
    from bridge.store import Store

    return Store(backends.catalog.store_url)


def write_report(store: Any, catalog: Any, workflow: str | None, fmt: str = "html", path: Any = None) -> Any:
    """Render the report and write it atomically; return its path."""
    from pathlib import Path

    from bridge.report import render
    from bridge.report.data import build

    text = render(build(store, catalog, workflow), fmt)
    if path is None:
        from bridge.config import bridge_home

        path = bridge_home() / "reports" / f"{workflow or 'all'}.{fmt}"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a half-written report (disk full) is not left behind
        raise
    return path


def report_after_run(store: Any, catalog: Any, workflow: str | None, err: IO[str]) -> Any:
    """The report a shadow run (or replay, or the demo) writes once its verdicts are stored: best-effort.
    A report that cannot be written (folder not writable, disk full, a directory in its way) is one
    warning line on ``err`` and None; the caller still prints the verdict and exits with the primary's
    outcome. The one place every shadow-running command writes its report through."""
    from bridge.errors import StoreError

    try:
        return write_report(store, catalog, workflow)
    except (OSError, StoreError) as exc:
        why = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) and exc.strerror else str(exc)
        err.write(f"warning: report not written ({why}); the verdict is stored: `bridge report` shows it\n")
        err.flush()
        return None


def _side(o: Any) -> str:
    """``prefect success (waited 4.5 s, ran 0.2 s)``: waited is from our trigger to the run's end
    (queueing included), ran the run's own start to end; a time not known is left out."""
    times = [
        f"{label} {seconds:.1f} s"
        for label, seconds in (("waited", o.elapsed_s), ("ran", o.duration_s))
        if seconds is not None
    ]
    return f"{o.side} {o.state}" + (f" ({', '.join(times)})" if times else "")


def _values(d: Any) -> str:
    from bridge.compare.model import ONLY_AIRFLOW, ONLY_PREFECT, json_text

    airflow = "(absent)" if d.kind == ONLY_PREFECT else json_text(d.airflow)
    prefect = "(absent)" if d.kind == ONLY_AIRFLOW else json_text(d.prefect)
    return f"{d.path}: airflow={airflow} prefect={prefect}"


def _table_lines(tables: Any, limit: int = 5) -> list[str]:
    """Tables that differ (scope, counts, sample keys as JSON), in one target only, or excluded; then
    the names of the equal ones."""
    from bridge.compare.model import json_text

    lines = []
    for t in tables:
        if t.excluded is not None:
            lines.append(f"  table {t.table}: excluded, not compared: {t.excluded}")
        elif t.present != "both":
            rows = t.airflow_rows if t.present == "airflow" else t.prefect_rows
            lines.append(f"  table {t.table} ({t.scope}): only in {t.present}'s target, {rows} rows")
        elif t.error:
            lines.append(f"  table {t.table} ({t.scope}): not compared: {t.error}")
        elif t.rows_differing:
            changed = ", ".join(f"{json_text(c.key)} ({', '.join(c.columns)})" for c in t.changed[:limit])
            lines.append(
                f"  table {t.table} ({t.scope}): {t.rows_differing} rows differ "
                f"(airflow {t.airflow_rows} rows, prefect {t.prefect_rows}): "
                f"only airflow {t.only_airflow_count} {json_text(t.only_airflow[:limit])}, "
                f"only prefect {t.only_prefect_count} {json_text(t.only_prefect[:limit])}, "
                f"changed {t.changed_count} [{changed}]"
            )
            for c in t.by_column:  # too many rows to list by key: per column, from a sample
                lines.append(f"    column {c.describe()}, e.g. {json_text(c.keys[:limit])}")
    equal = [f"{t.table} ({t.scope})" for t in tables if t.equal and t.excluded is None]
    if equal:
        lines.append(f"  tables equal: {', '.join(equal)}")
    return lines


def result_lines(result: Any, report: Any, limit: int = 20) -> list[str]:
    """What a shadow run prints: the verdict line with both sides, the real differences, the set-aside
    rows apart (each with its rule's reason or calibrated spread), then the tables."""
    from bridge.report.view import aside_note

    p, s = result.primary, result.shadow
    at = f"; as scheduled at {result.at.isoformat()}" if result.at else ""
    lines = [
        f"shadow {result.workflow}: {result.verdict_line}; {_side(p)}, {_side(s)}, "
        f"wall {result.wall_s:.1f} s{at}; report: {report or 'not written'}"
    ]
    if s.error:
        lines.append(f"  shadow error: {s.error}")
    real, aside = result.real_differences, result.set_aside
    for d in real[:limit]:
        lines.append(f"  {d.kind:<13} {_values(d)}" + (f"  ({d.note})" if d.note else ""))
    if len(real) > limit:
        lines.append(f"  ... and {len(real) - limit} more differences: see the report")
    if aside:
        tally = result.tally
        lines.append(f"  set aside, not counted ({tally.ignored} ignored, {tally.noise} noise):")
        for d in aside[:limit]:
            lines.append(f"    {d.kind:<8} {_values(d)}  ({aside_note(d.to_dict())})")
        if len(aside) > limit:
            lines.append(f"  ... and {len(aside) - limit} more set aside: see the report")
    return lines + _table_lines(result.tables)


def result_json(result: Any, report: Any) -> dict[str, Any]:
    """A shadow run as JSON (--json): the verdict line and its tally, both sides, the real differences,
    the set-aside ones apart, every table; keys and values as JSON, never Python reprs."""
    from bridge.compare.model import json_value
    from bridge.report.data import tally_dict

    p, s = result.primary, result.shadow
    doc: dict[str, Any] = json_value(
        {
            "workflow": result.workflow,
            "deployment": result.deployment or None,
            "at": result.at,
            "origin": result.origin,
            "comparison_id": result.comparison_id,
            "verdict": result.verdict,
            "verdict_line": result.verdict_line,
            "tally": tally_dict(result.tally),
            "correlation_id": result.correlation_id,
            "primary": {
                "state": p.state,
                "run": p.run,
                "url": p.url,
                "duration_s": p.duration_s,
                "elapsed_s": p.elapsed_s,
            },
            "shadow": {
                "state": s.state,
                "run": s.run,
                "url": s.url,
                "duration_s": s.duration_s,
                "elapsed_s": s.elapsed_s,
                "error": s.error,
            },
            "wall_s": result.wall_s,
            "differences": [d.to_dict() for d in result.real_differences],
            "set_aside": [d.to_dict() for d in result.set_aside],
            "tables": [t.to_dict() for t in result.tables],
            "report": str(report) if report else None,
        }
    )
    return doc


def shadow_run(
    backends: Any,
    dag_id: str,
    conf: dict[str, Any],
    opts: Options,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
) -> None:
    """The shadow job (origin ``manual``; ``replay`` with --at), then the report; exit with the primary's
    outcome (4 on a mismatch with --fail-on-mismatch). The verdict line is printed before either error
    is raised."""
    from bridge import followup, shadow
    from bridge.errors import BridgeError, MismatchError, RunFailedError

    store = store_for(backends)
    result = shadow.run_and_record(
        store,
        backends,
        dag_id,
        conf,
        origin="replay" if opts.at else "manual",  # --at: a past schedule instant run again
        timeout=opts.timeout,
        progress=ShadowProgress(err, dag_id),
        at=opts.at,
        unpause=opts.unpause,
        say=lambda line: err.write(line + "\n"),
    )
    followup.after_comparisons(store, backends.catalog, [dag_id])  # gates turned red, metrics textfile
    report = report_after_run(store, backends.catalog, dag_id, err)
    p = result.primary
    error: BridgeError | None = None
    if not p.ok:
        error = RunFailedError(f"shadow {dag_id}: the primary ({p.side}) ended {p.state}").about(p.run)
    elif opts.fail_on_mismatch and result.verdict == "mismatch":
        error = MismatchError(f"shadow {dag_id}: {result.verdict_line}")
    if opts.as_json:  # one object: the result, with the exit code the error below gives
        doc = {**result_json(result, report), "exit_code": error.exit_code if error else 0}
        json.dump(doc, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write("".join(line + "\n" for line in result_lines(result, report)))
    if error is not None:
        error.printed = opts.as_json
        raise error


def calibrate(
    dag_id: str,
    conf_text: str | None,
    runs: int,
    opts: Options,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
) -> None:
    """Run the controls, record the calibration (refused: nothing recorded, exit 5), say what was seen."""
    from bridge import calibration, operations
    from bridge.console.common import check_options

    check_options(opts)  # a negative --timeout: refused before any control runs
    backends = backends_for(opts)
    conf = operations.parse_conf(conf_text)
    primary = str(conf.get("target", backends.catalog.entry(dag_id).shadow.primary_target))
    controls = calibration.control_targets(primary, max(runs, 0))
    if runs >= 2:
        err.write(f"calibrate {dag_id}: {runs} control runs on airflow, into {', '.join(controls)}\n")
    progress = ShadowProgress(err, dag_id, verb="calibrate")
    result = calibration.calibrate(backends, dag_id, conf, runs, opts.timeout, progress)
    store_for(backends).record_calibration(result)
    out.write(
        f"calibrated {dag_id} over {runs} control runs on equal inputs (fingerprint {result.fingerprints[0]}): "
        f"{len(result.noise)} noisy path(s)\n"
    )
    for n in result.noise:
        out.write(f"  noise {n.path}: {n.describe()}\n")


def report(
    workflow: str | None, fmt: str, output: str | None, opts: Options, out: IO[str] = sys.stdout
) -> None:
    from bridge import config
    from bridge.console.report_checks import check_report_request
    from bridge.report import render
    from bridge.report.data import build
    from bridge.store import Store

    catalog = config.load()
    store = Store(catalog.store_url)
    check_report_request(store, catalog, workflow, output)
    if output:
        out.write(f"wrote {write_report(store, catalog, workflow, fmt, output)}\n")
    else:
        out.write(render(build(store, catalog, workflow), fmt))
