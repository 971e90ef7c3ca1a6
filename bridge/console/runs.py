"""list, trigger, status, pause/resume: one run at a time on one orchestrator."""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from bridge.backends.base import Observation, RunState, RunStatus
from bridge.console.common import Options, backends_for


# -- list -------------------------------------------------------------------------------------------
def list_workflows(opts: Options, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr) -> None:
    """Print every workflow either side knows; exit 3 (after printing) when a side did not answer.

    ``--url`` names the backend ``--backend`` names, and Airflow with ``--backend auto`` (never both)."""
    from bridge import operations
    from bridge.errors import BackendUnavailableError

    backends = backends_for(opts)
    backends.url_for = "airflow" if opts.backend == "auto" else opts.backend
    only = None if opts.backend == "auto" else opts.backend
    rows, warnings = operations.list_workflows(backends, only)
    if opts.as_json:
        json.dump([row.__dict__ for row in rows], out, indent=2, default=list)
        out.write("\n")
    else:
        _print_table(rows, out)
    if warnings:  # one side answered, the other did not: what it could, then exit 3 naming the side down
        out.flush()
        down = "; ".join(w.removeprefix("warning: ") for w in warnings)
        raise BackendUnavailableError(f"{down}; the list above holds only what the other side knows")


def _print_table(rows: list[Any], out: IO[str]) -> None:
    header = ("WORKFLOW", "STAGE", "SCHEDULE", "PAUSED", "LAST RUN", "KNOWN BY")
    table = [header] + [
        (r.id, r.stage, r.schedule, r.paused, r.last_state, ",".join(r.known_by) or "catalog only")
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        out.write("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() + "\n")
    if not rows:
        out.write("(no workflows)\n")


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


def trigger(
    dag_id: str, conf_text: str | None, opts: Options, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr
) -> None:
    from bridge import operations

    conf = operations.parse_conf(conf_text)
    backends = backends_for(opts)
    if opts.shadow or (opts.backend == "auto" and backends.catalog.entry(dag_id).stage == "shadow"):
        from bridge.console.shadow import shadow_run

        shadow_run(backends, dag_id, conf, opts, out, err)
        return
    ref = operations.trigger(backends, dag_id, conf, opts.backend)
    run = operations.format_run_id(ref)
    if not opts.wait:
        if opts.as_json:
            json.dump(
                {
                    "run": run,
                    "backend": ref.backend,
                    "workflow": ref.workflow_id,
                    "correlation_id": ref.correlation_id,
                    "url": ref.url,
                },
                out,
                indent=2,
            )
            out.write("\n")
        else:
            out.write(f"triggered {ref.workflow_id} on {ref.backend}: run {run}\n  {ref.url}\n")
        return
    err.write(f"triggered {ref.workflow_id} on {ref.backend}: run {run}  {ref.url}\n")
    operations.wait(backends, ref, opts.timeout, ProgressLine(err))
    obs = operations.observe(backends, ref)
    _print_observation(obs, opts.as_json, out)
    if obs.state != RunState.SUCCESS:
        raise _failed(obs)


def _failed(obs: Observation) -> Exception:
    """What a run that did not succeed raises (exit 1), once what it did is printed."""
    from bridge.errors import RunFailedError
    from bridge.operations import format_run_id

    return RunFailedError(f"run {format_run_id(obs.ref)} ended {obs.state.value}")


def _print_observation(obs: Observation, as_json: bool, out: IO[str]) -> None:
    data = observation_dict(obs)
    if as_json:
        json.dump(data, out, indent=2, default=str)
        out.write("\n")
        return
    duration = f" in {obs.duration:.1f} s" if obs.duration is not None else ""
    out.write(f"{obs.ref.workflow_id} on {obs.ref.backend}: {obs.state.value}{duration}\n")
    for name, task in data["tasks"].items():
        value = (
            "" if task["value"] is None else f" -> {json.dumps(task['value'], default=str, sort_keys=True)}"
        )
        out.write(f"  task {name}: {task['state']}{value}\n")
    if obs.result is not None:
        out.write(f"  result: {json.dumps(obs.result, default=str, sort_keys=True)}\n")
    if obs.error:
        out.write(f"  error: {obs.error}\n")
    out.write(f"  {obs.url}\n")


# -- status -----------------------------------------------------------------------------------------
def status(run_id: str, opts: Options, out: IO[str] = sys.stdout) -> None:
    from bridge import operations

    backends = backends_for(opts)
    ref = operations.parse_run_id(backends, run_id)
    if opts.wait:
        operations.wait(backends, ref, opts.timeout, ProgressLine(sys.stderr))
    obs = operations.observe(backends, ref)
    _print_observation(obs, opts.as_json, out)
    if obs.state.is_final and obs.state != RunState.SUCCESS:
        raise _failed(obs)


# -- pause / resume ---------------------------------------------------------------------------------
def set_paused(dag_id: str, backend: str, paused: bool, opts: Options, out: IO[str] = sys.stdout) -> None:
    from bridge import operations

    backends = backends_for(opts)
    target = operations.resolve(backends.catalog, dag_id, backend, {})
    b = backends.get(target.backend)
    (b.pause if paused else b.resume)(target.workflow_id)
    out.write(f"{target.workflow_id} on {target.backend}: {'paused' if paused else 'resumed'}\n")
