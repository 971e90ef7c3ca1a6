"""What both CLIs do once their flags are parsed: call operations, print, and return an exit code.

trigger_script.py (argparse, the legacy flags) and `bridge` (click) are only parsers over these functions.
Output goes to stdout; progress, warnings and errors go to stderr. A BridgeError becomes one line and its
exit code: 0 ok, 1 the run failed, 2 bad usage or input, 3 backend unreachable or auth failed, 4 mismatch.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from bridge.backends.base import Observation, RunRef, RunState, RunStatus
from bridge.errors import BridgeError


@dataclass(frozen=True)
class Options:
    """Flags both CLIs share."""

    backend: str = "auto"
    url: str | None = None
    username: str | None = None
    password: str | None = None
    as_json: bool = False
    wait: bool = False
    timeout: float = 3600.0
    shadow: bool = False
    fail_on_mismatch: bool = False


def guarded(fn: Callable[[], int], err: IO[str] | None = None, prog: str = "bridge") -> int:
    """Run ``fn``; a BridgeError becomes one line on stderr and its exit code, never a traceback."""
    err = err or sys.stderr
    try:
        return fn()
    except BridgeError as exc:
        print(f"{prog}: {exc}", file=err)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=err)
        return 130


def _backends(opts: Options) -> Any:
    import getpass

    from bridge import config
    from bridge.operations import Backends, Credentials

    catalog = config.load()
    prompt = getpass.getpass if sys.stdin.isatty() else None
    url_for = opts.backend if opts.backend != "auto" else None
    return Backends(catalog, Credentials(opts.username, opts.password), opts.url, url_for, prompt)


# -- list -------------------------------------------------------------------------------------------
def list_workflows(opts: Options, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr) -> int:
    from bridge import operations

    backends = _backends(opts)
    only = None if opts.backend == "auto" else opts.backend
    rows, warnings = operations.list_workflows(backends, only)
    for warning in warnings:
        print(warning, file=err)
    if opts.as_json:
        json.dump([row.__dict__ for row in rows], out, indent=2, default=list)
        out.write("\n")
        return 0
    header = ("WORKFLOW", "STAGE", "SCHEDULE", "PAUSED", "LAST RUN", "KNOWN BY")
    table = [header] + [(r.id, r.stage, r.schedule, r.paused, r.last_state, ",".join(r.known_by) or "catalog only")
                        for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        out.write("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
    if not rows:
        out.write("(no workflows)\n")
    return 0


# -- trigger ----------------------------------------------------------------------------------------
class ProgressLine:
    """One line while waiting: rewritten in place on a terminal, else printed on change or every 15 s."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last: tuple[RunState, int] | None = None

    def __call__(self, status: RunStatus, elapsed: float) -> None:
        line = f"waiting for {status.ref.workflow_id} ({status.ref.backend}): {status.state.value}, {elapsed:.0f} s"
        if self.tty:
            self.stream.write("\r" + line.ljust(70))
            if status.state.is_final:
                self.stream.write("\n")
        else:
            key = (status.state, int(elapsed // 15))
            if key == self.last:
                return
            self.last = key
            self.stream.write(line + "\n")
        self.stream.flush()


def observation_dict(obs: Observation) -> dict[str, Any]:
    from bridge.operations import format_run_id

    return {
        "run": format_run_id(obs.ref),
        "backend": obs.ref.backend,
        "workflow": obs.ref.workflow_id,
        "correlation_id": obs.ref.correlation_id,
        "state": obs.state.value,
        "start": obs.start.isoformat() if obs.start else None,
        "end": obs.end.isoformat() if obs.end else None,
        "duration_s": obs.duration,
        "tasks": {name: {"state": t.state.value, "value": t.value} for name, t in obs.tasks.items()},
        "result": obs.result,
        "error": obs.error,
        "url": obs.url,
    }


def trigger(dag_id: str, conf_text: str | None, opts: Options, out: IO[str] = sys.stdout,
            err: IO[str] = sys.stderr) -> int:
    from bridge import operations

    conf = operations.parse_conf(conf_text)
    backends = _backends(opts)
    if opts.shadow or (opts.backend == "auto" and backends.catalog.entry(dag_id).stage == "shadow"):
        return shadow_run(backends, dag_id, conf, opts, out, err)
    ref = operations.trigger(backends, dag_id, conf, opts.backend)
    run = operations.format_run_id(ref)
    if not opts.wait:
        if opts.as_json:
            json.dump({"run": run, "backend": ref.backend, "workflow": ref.workflow_id,
                       "correlation_id": ref.correlation_id, "url": ref.url}, out, indent=2)
            out.write("\n")
        else:
            out.write(f"triggered {ref.workflow_id} on {ref.backend}: run {run}\n  {ref.url}\n")
        return 0
    err.write(f"triggered {ref.workflow_id} on {ref.backend}: run {run}  {ref.url}\n")
    operations.wait(backends, ref, opts.timeout, ProgressLine(err))
    obs = operations.observe(backends, ref)
    _print_observation(obs, opts.as_json, out)
    return 0 if obs.state == RunState.SUCCESS else 1


def _print_observation(obs: Observation, as_json: bool, out: IO[str]) -> None:
    data = observation_dict(obs)
    if as_json:
        json.dump(data, out, indent=2, default=str)
        out.write("\n")
        return
    duration = f" in {obs.duration:.1f} s" if obs.duration is not None else ""
    out.write(f"{obs.ref.workflow_id} on {obs.ref.backend}: {obs.state.value}{duration}\n")
    for name, task in data["tasks"].items():
        value = "" if task["value"] is None else f" -> {json.dumps(task['value'], default=str, sort_keys=True)}"
        out.write(f"  task {name}: {task['state']}{value}\n")
    if obs.result is not None:
        out.write(f"  result: {json.dumps(obs.result, default=str, sort_keys=True)}\n")
    if obs.error:
        out.write(f"  error: {obs.error}\n")
    out.write(f"  {obs.url}\n")


# -- status -----------------------------------------------------------------------------------------
def status(run_id: str, opts: Options, out: IO[str] = sys.stdout) -> int:
    from bridge import operations

    backends = _backends(opts)
    ref = operations.parse_run_id(backends, run_id)
    if opts.wait:
        operations.wait(backends, ref, opts.timeout, ProgressLine(sys.stderr))
    obs = operations.observe(backends, ref)
    _print_observation(obs, opts.as_json, out)
    return 0 if obs.state == RunState.SUCCESS else (1 if obs.state.is_final else 0)


__all__ = ["Options", "ProgressLine", "RunRef", "guarded", "list_workflows", "observation_dict", "status",
           "trigger"]


# -- pause / resume / demo ----------------------------------------------------------------------------
def set_paused(dag_id: str, backend: str, paused: bool, opts: Options, out: IO[str] = sys.stdout) -> int:
    from bridge import operations

    backends = _backends(opts)
    target = operations.resolve(backends.catalog, dag_id, backend, {})
    b = backends.get(target.backend)
    (b.pause if paused else b.resume)(target.workflow_id)
    out.write(f"{target.workflow_id} on {target.backend}: {'paused' if paused else 'resumed'}\n")
    return 0


def demo(opts: Options, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr) -> int:
    """What each orchestrator knows, then the main job: seed, shadow-run every workflow, summary, report."""
    from bridge import demo as demo_mod

    backends = _backends(opts)
    out.write("== Workflows (Airflow DAGs and Prefect deployments, joined through bridge.toml)\n")
    list_workflows(opts, out, err)
    prefect = backends.get("prefect")
    pools = prefect.client.post("/work_pools/filter", json={})
    out.write("\n== Prefect work pools\n")
    for pool in sorted(pools, key=lambda p: p["name"]):
        workers = prefect.client.post(f"/work_pools/{pool['name']}/workers/filter", json={})
        online = sum(1 for w in workers if w.get("status") == "ONLINE")
        out.write(f"  {pool['name']:<12} type {pool['type']:<8} workers online: {online}\n")
    out.write("\n== Shadow runs (Airflow authoritative, Prefect into its shadow target)\n")
    with database_errors("the demo's source and warehouse"):
        demo_mod.seed_sources(lambda line: err.write(line + "\n"))
        demo_mod.reset_targets(backends.catalog, lambda line: err.write(line + "\n"))
    store = _store(backends)
    rows = demo_mod.run_all(backends, store, progress=lambda: ShadowProgress(err), say=lambda line: err.write(line + "\n"))
    out.write(demo_mod.table(rows) + "\n")
    report = write_report(store, backends.catalog, None)
    out.write(f"\nReport:     {report}\n")
    out.write(f"Airflow UI: {backends.catalog.airflow.url}\n")
    out.write(f"Prefect UI: {prefect.ui_url}\n")
    return 0 if all(r.verdict == "match" for r in rows) else 4


# -- parity / seed ------------------------------------------------------------------------------------
def parity(dag_id: str, n: int, opts: Options, out: IO[str] = sys.stdout) -> int:
    """Print the next ``n`` fire times on both sides in UTC and the verdict; exit 1 unless equal."""
    from bridge import parity as parity_mod

    result = parity_mod.check(_backends(opts), dag_id, n)
    if opts.as_json:
        json.dump({"workflow": dag_id, "verdict": result.verdict, "explanation": result.explanation,
                   "offset_s": result.offset.total_seconds() if result.offset else None,
                   "airflow": [t.isoformat() for t in result.airflow],
                   "prefect": [t.isoformat() for t in result.prefect]}, out, indent=2)
        out.write("\n")
    else:
        out.write(f"{'AIRFLOW (UTC)':<27}{'PREFECT (UTC)':<27}\n")
        for a, p in zip(result.airflow, result.prefect):
            out.write(f"{a.isoformat():<27}{p.isoformat():<27}{'' if a == p else 'differs'}\n")
        out.write(f"{dag_id}: {result.verdict}: {result.explanation}\n")
    return 0 if result.equal else 1


def seed_products(rows: int, seed: int, url: str | None, out: IO[str] = sys.stdout) -> int:
    """Fill the source database with the deterministic products catalogue."""
    from pipelines import db
    from pipelines.seed import seed_products as fill

    target = url or db.source_url()
    with database_errors(db.DatabaseUrl.parse(target).render()):
        db.ensure_source_database(target)
        summary = fill(target, rows, seed)
    out.write(f"seeded {db.DatabaseUrl.parse(target).render()} with seed {seed}: "
              f"{json.dumps(summary, default=str, sort_keys=True)}\n")
    return 0


def seed_etl(rows: int, seed: int, orders: int | None, url: str | None, out: IO[str] = sys.stdout,
             err: IO[str] = sys.stderr) -> int:
    """Fill the source with products, categories, promotions, orders and order items (scenario 3)."""
    from pipelines import db
    from pipelines.etl_seed import seed_etl as fill

    target = url or db.source_url()
    where = db.DatabaseUrl.parse(target).render()
    last = [0.0]

    def progress(table: str, done: int) -> None:
        import time

        if time.monotonic() - last[0] > 5:
            err.write(f"seeding {table}: {done} rows\n")
            last[0] = time.monotonic()

    with database_errors(where):
        summary = fill(target, rows, seed, orders=orders, progress=progress)
    out.write(f"seeded {where} with seed {seed}: {json.dumps(summary, default=str, sort_keys=True)}\n")
    return 0


@contextmanager
def database_errors(where: str) -> Iterator[None]:
    """A database driver's error becomes one BridgeError line naming the (password-free) URL."""
    import psycopg
    import pymysql

    from bridge.errors import BackendUnavailableError, UsageError

    try:
        yield
    except (pymysql.err.OperationalError, psycopg.OperationalError) as exc:
        raise BackendUnavailableError(f"cannot use {where}: {str(exc).splitlines()[0]}") from exc
    except (pymysql.err.MySQLError, psycopg.Error, ValueError) as exc:
        raise UsageError(f"{where}: {str(exc).splitlines()[0]}") from exc



# -- shadow -------------------------------------------------------------------------------------------
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


def _store(backends: Any) -> Any:
    from bridge.store import Store

    return Store(backends.catalog.store_url)


def write_report(store: Any, catalog: Any, workflow: str | None, fmt: str = "html", path: Any = None) -> Any:
    """Render the report and write it atomically; return its path."""
    import os
    from pathlib import Path

    from bridge.report import render
    from bridge.report.data import build

    text = render(build(store, catalog, workflow), fmt)
    if path is None:
        home = Path(os.environ.get("BRIDGE_HOME") or Path(__file__).resolve().parents[1] / ".bridge")
        path = home / "reports" / f"{workflow or 'all'}.{fmt}"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def shadow_run(backends: Any, dag_id: str, conf: dict[str, Any], opts: Options, out: IO[str] = sys.stdout,
               err: IO[str] = sys.stderr) -> int:
    """Run both sides, compare, record, write the report; exit with the primary's outcome (4 on a
    mismatch with --fail-on-mismatch)."""
    from bridge import shadow

    store = _store(backends)
    result = shadow.run(backends, dag_id, conf, timeout=opts.timeout, progress=ShadowProgress(err),
                        noise=store.noise_paths(dag_id))
    store.record(result)
    report = write_report(store, backends.catalog, dag_id)
    p, s = result.primary, result.shadow
    def side(o: Any) -> str:
        return f"{o.side} {o.state}" + (f" {o.duration_s:.1f} s" if o.duration_s is not None else "")
    if opts.as_json:
        json.dump({"workflow": dag_id, "verdict": result.verdict, "correlation_id": result.correlation_id,
                   "primary": {"state": p.state, "run": p.run, "url": p.url, "duration_s": p.duration_s},
                   "shadow": {"state": s.state, "run": s.run, "url": s.url, "duration_s": s.duration_s,
                              "error": s.error},
                   "wall_s": result.wall_s, "differences": [d.to_dict() for d in result.differences],
                   "tables": [t.to_dict() for t in result.tables], "report": str(report)}, out, indent=2, default=str)
        out.write("\n")
    else:
        out.write(f"shadow {dag_id}: {result.verdict} ({side(p)}, {side(s)}, wall {result.wall_s:.1f} s, "
                  f"{len(result.real_differences)} differences) report: {report}\n")
        if s.error:
            out.write(f"  shadow error: {s.error}\n")
        for d in result.differences[:20]:
            out.write(f"  {d.kind:<13} {d.path}: airflow={json.dumps(d.airflow, default=str)} "
                      f"prefect={json.dumps(d.prefect, default=str)}\n")
        for t in result.tables:
            if not t.equal:
                out.write(f"  table {t.table}: only airflow {t.only_airflow_count} {list(t.only_airflow)[:5]}, "
                          f"only prefect {t.only_prefect_count} {list(t.only_prefect)[:5]}, changed "
                          f"{t.changed_count} {[(c.key, c.columns) for c in t.changed][:5]}"
                          f"{' error: ' + t.error if t.error else ''}\n")
    if not p.ok:
        return 1
    if opts.fail_on_mismatch and result.verdict == "mismatch":
        return 4
    return 0


def calibrate(dag_id: str, conf_text: str | None, runs: int, opts: Options, out: IO[str] = sys.stdout,
              err: IO[str] = sys.stderr) -> int:
    from bridge import operations, shadow
    from bridge.errors import UsageError

    if runs < 2:
        raise UsageError("--runs must be at least 2: noise is what differs between two runs")
    backends = _backends(opts)
    conf = operations.parse_conf(conf_text)
    paths = shadow.calibrate(backends, dag_id, conf, runs, opts.timeout, ShadowProgress(err))
    _store(backends).set_noise(dag_id, paths, runs)
    out.write(f"calibrated {dag_id} over {runs} primary runs: {len(paths)} noisy path(s)"
              + (": " + ", ".join(paths) if paths else "") + "\n")
    return 0


def report(workflow: str | None, fmt: str, output: str | None, opts: Options, out: IO[str] = sys.stdout) -> int:
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
    return 0
