"""Shadow runs, calibration and reports: both orchestrators at once, compared and recorded."""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from bridge.backends.base import RunStatus
from bridge.console.common import Options, backends_for


class ShadowProgress:
    """One line for both sides while a shadow run waits."""

    def __init__(self, stream: IO[str]) -> None:
        import threading

        self.stream = stream
        self.lock = threading.Lock()
        self.states: dict[str, str] = {}
        self.last = ""
        self.last_at = -1.0

    def __call__(self, side: str, status: RunStatus, elapsed: float) -> None:
        with self.lock:
            self.states[side] = status.state.value
            line = " | ".join(f"{s}: {self.states[s]}" for s in sorted(self.states))
            if line != self.last or elapsed - self.last_at >= 15:
                self.stream.write(f"shadow {status.ref.workflow_id}: {line} ({elapsed:.0f} s)\n")
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
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def shadow_run(
    backends: Any,
    dag_id: str,
    conf: dict[str, Any],
    opts: Options,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
) -> None:
    """Run both sides, compare, record, write the report; exit with the primary's outcome (4 on a
    mismatch with --fail-on-mismatch). The verdict line is printed before either error is raised."""
    from bridge import shadow
    from bridge.errors import MismatchError, RunFailedError

    store = store_for(backends)
    result = shadow.run(
        backends,
        dag_id,
        conf,
        timeout=opts.timeout,
        progress=ShadowProgress(err),
        noise=store.noise_paths(dag_id),
        at=opts.at,
    )
    store.record(result)
    report = write_report(store, backends.catalog, dag_id)
    p, s = result.primary, result.shadow

    def side(o: Any) -> str:
        waited = o.elapsed_s if o.elapsed_s is not None else o.duration_s  # trigger to end, queueing included
        return f"{o.side} {o.state}" + (f" {waited:.1f} s" if waited is not None else "")

    if opts.as_json:
        json.dump(
            {
                "workflow": dag_id,
                "verdict": result.verdict,
                "correlation_id": result.correlation_id,
                "primary": {"state": p.state, "run": p.run, "url": p.url, "duration_s": p.duration_s},
                "shadow": {
                    "state": s.state,
                    "run": s.run,
                    "url": s.url,
                    "duration_s": s.duration_s,
                    "error": s.error,
                },
                "wall_s": result.wall_s,
                "differences": [d.to_dict() for d in result.differences],
                "tables": [t.to_dict() for t in result.tables],
                "report": str(report),
            },
            out,
            indent=2,
            default=str,
        )
        out.write("\n")
    else:
        out.write(
            f"shadow {dag_id}: {result.verdict} ({side(p)}, {side(s)}, wall {result.wall_s:.1f} s, "
            f"{len(result.real_differences)} differences) report: {report}\n"
        )
        if s.error:
            out.write(f"  shadow error: {s.error}\n")
        for d in result.differences[:20]:
            out.write(
                f"  {d.kind:<13} {d.path}: airflow={json.dumps(d.airflow, default=str)} "
                f"prefect={json.dumps(d.prefect, default=str)}\n"
            )
        for t in result.tables:
            if not t.equal:
                out.write(
                    f"  table {t.table}: only airflow {t.only_airflow_count} {list(t.only_airflow)[:5]}, "
                    f"only prefect {t.only_prefect_count} {list(t.only_prefect)[:5]}, changed "
                    f"{t.changed_count} {[(c.key, c.columns) for c in t.changed][:5]}"
                    f"{' error: ' + t.error if t.error else ''}\n"
                )
    if not p.ok:
        raise RunFailedError(f"shadow {dag_id}: the primary ({p.side}) ended {p.state}")
    if opts.fail_on_mismatch and result.verdict == "mismatch":
        raise MismatchError(f"shadow {dag_id}: mismatch ({len(result.real_differences)} differences)")


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

    backends = backends_for(opts)
    conf = operations.parse_conf(conf_text)
    primary = str(conf.get("target", backends.catalog.entry(dag_id).shadow.primary_target))
    controls = calibration.control_targets(primary, max(runs, 0))
    if runs >= 2:
        err.write(f"calibrate {dag_id}: {runs} control runs on airflow, into {', '.join(controls)}\n")
    result = calibration.calibrate(backends, dag_id, conf, runs, opts.timeout, ShadowProgress(err))
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
    from bridge.report import render
    from bridge.report.data import build
    from bridge.store import Store

    catalog = config.load()
    store = Store(catalog.store_url)
    if output:
        out.write(f"wrote {write_report(store, catalog, workflow, fmt, output)}\n")
    else:
        out.write(render(build(store, catalog, workflow), fmt))
