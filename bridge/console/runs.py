"""list, trigger, status, pause/resume: one run at a time on one orchestrator."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import IO, Any

from bridge.backends.base import Observation, RunRef, RunState, RunStatus
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
    listed = [{**row.__dict__, "known_by": list(row.known_by)} for row in rows]
    if warnings:  # one side answered, the other did not: what it could, then exit 3 naming the side down
        down = "; ".join(w.removeprefix("warning: ") for w in warnings)
        if opts.as_json:  # one JSON object: the error, and what the other side listed
            raise BackendUnavailableError(f"{down}; the list holds only what the other side knows").about(
                workflows=listed
            )
        _print_table(rows, out)
        out.flush()
        raise BackendUnavailableError(f"{down}; the list above holds only what the other side knows")
    if opts.as_json:
        json.dump(listed, out, indent=2)
        out.write("\n")
    else:
        _print_table(rows, out)


def _print_table(rows: list[Any], out: IO[str]) -> None:
    header = ("WORKFLOW", "STAGE", "SCHEDULE", "PAUSED", "LAST RUN", "KNOWN BY")
    paused = {True: "yes", False: "no", None: "-"}
    table = [header] + [
        (
            r.id,
            r.stage,
            r.schedule or "-",
            paused[r.paused],
            r.last_state or "-",
            ",".join(r.known_by) or "catalog only",
        )
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
    """The JSON of one observed run (docs/json-schema.json: "run"). ``state`` is the common model; each task's
    ``state`` is the server's own (skipped, upstream_failed, up_for_retry...), ``outcome`` the common one."""
    from bridge.operations import format_run_id

    return {
        "run": format_run_id(obs.ref),
        "backend": obs.ref.backend,
        "workflow": obs.ref.workflow_id,
        "correlation_id": obs.ref.correlation_id,
        "state": obs.state.value,
        "native_state": obs.native_state or None,
        "start": iso_utc(obs.start),
        "end": iso_utc(obs.end),
        "duration_s": obs.duration,
        "tasks": {
            name: {
                "state": t.shown_state,
                "outcome": t.state.value,
                "map_states": list(t.map_states) or None,
                "value": t.value,
            }
            for name, t in obs.tasks.items()
        },
        "result": obs.result,
        "error": obs.error,
        "url": obs.url,
    }


def iso_utc(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC, ``Z``-suffixed; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def trigger(
    dag_id: str, conf_text: str | None, opts: Options, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr
) -> None:
    from bridge import operations
    from bridge.console.common import check_options

    check_options(opts)
    conf = operations.parse_conf(conf_text)
    backends = backends_for(opts)
    if opts.shadow or (opts.backend == "auto" and backends.catalog.entry(dag_id).stage == "shadow"):
        from bridge.console.shadow import shadow_run

        shadow_run(backends, dag_id, conf, opts, out, err)
        return

    def say(line: str) -> None:
        err.write(line + "\n")

    ref = operations.trigger(
        backends, dag_id, conf, opts.backend, unpause=opts.unpause, waiting=opts.wait, say=say
    )
    run = operations.format_run_id(ref)
    if not opts.wait:
        if opts.as_json:
            triggered = {
                "run": run,
                "backend": ref.backend,
                "workflow": ref.workflow_id,
                "correlation_id": ref.correlation_id,
                "state": "triggered",
                "url": ref.url,
            }
            json.dump(triggered, out, indent=2)
            out.write("\n")
        else:
            out.write(f"triggered {ref.workflow_id} on {ref.backend}: run {run}\n  {ref.url}\n")
        return
    err.write(f"triggered {ref.workflow_id} on {ref.backend}: run {run}  {ref.url}\n")
    follow(backends, ref, opts, out, err)


def follow(backends: Any, ref: RunRef, opts: Options, out: IO[str], err: IO[str]) -> None:
    """Wait for ``ref`` (Ctrl-C and a timeout name the run left going), then print what it did."""
    import time

    from bridge import operations
    from bridge.errors import BridgeError, WaitInterruptedError

    run = operations.format_run_id(ref)
    started = time.monotonic()
    try:
        operations.wait(backends, ref, opts.timeout, ProgressLine(err))
        obs = operations.observe(backends, ref)
    except KeyboardInterrupt:
        raise WaitInterruptedError(
            f"interrupted; run {run} goes on: follow it with `bridge status {run} --wait` or at {ref.url}"
        ).about(run) from None
    except BridgeError as exc:  # a server down mid-wait: the line still names the run left going
        raise exc.about(run) from None
    _print_observation(obs, opts.as_json, out, waited=time.monotonic() - started)
    if obs.state != RunState.SUCCESS:
        raise _failed(obs, opts.as_json)


def _failed(obs: Observation, printed: bool) -> Exception:
    """What a run that did not succeed raises (exit 1), once what it did is printed (with --json, the
    run's object holds the error and exit code: no second object)."""
    from bridge.errors import RunFailedError
    from bridge.operations import format_run_id

    run = format_run_id(obs.ref)
    why = f": {obs.error}" if obs.error else ""
    error = RunFailedError(f"run {run} ended {obs.state.value}{why}").about(run)
    error.printed = printed
    return error


def run_exit_code(obs: Observation) -> int:
    """What the process exits with after printing ``obs``: 1 for a final run that did not succeed."""
    return 1 if obs.state.is_final and obs.state != RunState.SUCCESS else 0


def _print_observation(obs: Observation, as_json: bool, out: IO[str], waited: float | None = None) -> None:
    data = observation_dict(obs)
    if as_json:
        json.dump({**data, "exit_code": run_exit_code(obs)}, out, indent=2, default=str)
        out.write("\n")
        return
    duration = f" in {obs.duration:.1f} s" if obs.duration is not None else ""
    if waited is not None and (obs.duration is None or waited - obs.duration >= 1):  # queued, or no times
        duration += f" (waited {waited:.1f} s)"
    out.write(f"{obs.ref.workflow_id} on {obs.ref.backend}: {obs.state.value}{duration}\n")
    for name, task in obs.tasks.items():
        value = "" if task.value is None else f" -> {json.dumps(task.value, default=str, sort_keys=True)}"
        out.write(f"  task {name}: {task.shown_state}{describe_map(task.map_states)}{value}\n")
    if obs.result is not None:
        out.write(f"  result: {json.dumps(obs.result, default=str, sort_keys=True)}\n")
    if obs.error:
        out.write(f"  error: {obs.error}\n")
    out.write(f"  {obs.url}\n")


def describe_map(states: tuple[str, ...], listed: int = 8) -> str:
    """`` (120 mapped: 117 success; skipped at 0, 50, 100)``: the commonest state counted, the others at
    their indices (the first ``listed`` of them); empty when the indices agree."""
    if not states:
        return ""
    from collections import Counter

    counts = Counter(states).most_common()
    parts = [f"{counts[0][1]} {counts[0][0]}"]
    for state, _ in counts[1:]:
        where = [i for i, s in enumerate(states) if s == state]
        shown = ", ".join(map(str, where[:listed])) + (
            f" and {len(where) - listed} more" if len(where) > listed else ""
        )
        parts.append(f"{state} at {shown}")
    return f" ({len(states)} mapped: {'; '.join(parts)})"


# -- status -----------------------------------------------------------------------------------------
def status(run_id: str, opts: Options, out: IO[str] = sys.stdout) -> None:
    from bridge import operations
    from bridge.console.common import check_options

    check_options(opts)
    backends = backends_for(opts)
    ref = operations.parse_run_id(backends, run_id)
    if opts.wait:
        follow(backends, ref, opts, out, sys.stderr)
        return
    obs = operations.observe(backends, ref)
    _print_observation(obs, opts.as_json, out)
    if run_exit_code(obs):
        raise _failed(obs, opts.as_json)


# -- pause / resume ---------------------------------------------------------------------------------
def set_paused(dag_id: str, backend: str, paused: bool, opts: Options, out: IO[str] = sys.stdout) -> None:
    from bridge import operations

    backends = backends_for(opts)
    target = operations.resolve(backends.catalog, dag_id, backend, {})
    b = backends.get(target.backend)
    (b.pause if paused else b.resume)(target.workflow_id)
    out.write(f"{target.workflow_id} on {target.backend}: {'paused' if paused else 'resumed'}\n")
