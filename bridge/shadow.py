"""Shadow mode: run a workflow on Airflow (authoritative) and on Prefect (shadow) at once, then compare.

Both sides get the same conf and one correlation id; the shadow side gets the shadow target injected and
waits with its own timeout. Nothing the shadow side does (fail, hang, vanish) changes the primary's
outcome: its errors are recorded as the shadow's outcome, never raised.

The shadow job has one owner, :func:`run_and_record`: run both sides, compare (with the workflow's
calibrated noise), record in the history store, return the comparison as recorded (its id, its
:data:`Origin`). The CLI, the demo, a replay, the watcher and the cutover all go through it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from bridge.backends.base import Observation, RunRef, RunState, RunStatus, seconds_between
from bridge.compare import model
from bridge.compare.model import Difference, NoiseSpread, TableDiff
from bridge.compare.normalize import RunIdentity, normalize
from bridge.compare.outputs import Targets, prepare_targets
from bridge.compare.values import diff
from bridge.config import WorkflowEntry, default_warehouse_url
from bridge.errors import BridgeError, UnknownWorkflowError, UsageError
from bridge.operations import Backends, ensure_startable, flow_parameters, format_run_id, new_correlation_id

SideProgress = Callable[[str, RunStatus, float], None]
UNREADABLE = "unreadable"  # a side's state: it succeeded, and the bridge could not read its values

#: Why a comparison was made: ``manual`` (someone ran ``--shadow``, or the demo), ``scheduled`` (the
#: watcher paired the runs both schedulers made), ``replay`` (a past schedule instant run again:
#: ``shadow-replay``, ``--at``), ``calibration`` (a control run of the legacy side; calibration records
#: its noise, not comparisons, today).
Origin = Literal["manual", "scheduled", "replay", "calibration"]
ORIGINS: tuple[Origin, ...] = get_args(Origin)


@dataclass(frozen=True)
class SideOutcome:
    """What one side did, as far as the shadow run could tell."""

    side: str
    state: str  # a RunState value, or "unavailable" / "timeout" / "error" / "unreadable" (see _outcome)
    run: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    url: str = ""
    error: str | None = None
    document: Mapping[str, Any] | None = field(default=None, repr=False)
    ref: RunRef | None = field(default=None, repr=False)
    elapsed_s: float | None = None  # from our trigger to the observed end: what the caller waited
    #: each task (by its own name on this side): {duration_s: start to end, id: its id there}; not compared
    task_times: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.state == RunState.SUCCESS.value

    @property
    def duration_s(self) -> float | None:
        return seconds_between(self.start, self.end)

    def run_ids(self) -> list[str]:
        """This side's own ids, which normalization replaces: its run, native run id, correlation id."""
        ref = self.ref
        return [self.run or "", ref.run_id if ref else "", ref.correlation_id if ref else ""]


@dataclass(frozen=True)
class ShadowResult:
    workflow: str
    correlation_id: str
    conf: Mapping[str, Any]
    verdict: str
    primary: SideOutcome
    shadow: SideOutcome
    differences: tuple[Difference, ...] = ()
    tables: tuple[TableDiff, ...] = ()
    wall_s: float = 0.0
    deployment: str = ""  # the Prefect side's deployment, named once in progress and results
    at: datetime | None = None  # the schedule instant both sides ran as (--at), if any
    origin: Origin = "manual"  # why the comparison was made (see Origin)
    comparison_id: int | None = None  # its id in the history store, once recorded

    def sides(self) -> tuple[SideOutcome, SideOutcome]:
        return self.primary, self.shadow

    @property
    def real_differences(self) -> list[Difference]:
        """Value differences that count: not noise within its calibrated spread, not ignored."""
        return [d for d in self.differences if d.kind not in model.SET_ASIDE]

    @property
    def set_aside(self) -> list[Difference]:
        """Ignored differences and calibrated noise, listed apart with their reasons or spreads."""
        return [d for d in self.differences if d.kind in model.SET_ASIDE]

    @property
    def tally(self) -> model.Tally:
        return model.Tally.of(self.differences, self.tables)

    @property
    def verdict_line(self) -> str:
        """``mismatch (2 values, 5 rows in price_history, 3 ignored)``."""
        return f"{self.verdict} ({self.tally.describe()})"


def _outcome(side: str, obs: Observation, doc: Mapping[str, Any], elapsed: float | None) -> SideOutcome:
    """A side that succeeded but whose values the bridge could not read is ``unreadable``, with the
    reason naming the storage: it fails the shadow (``decide``), never a mismatch of unread values."""
    from bridge.backends.results import unreadable_reasons

    state, error = obs.state.value, obs.error
    reasons = unreadable_reasons([doc.get("tasks"), doc.get("result")])
    if obs.state == RunState.SUCCESS and reasons:
        state, error = UNREADABLE, error or reasons[0]
    return SideOutcome(
        side,
        state,
        format_run_id(obs.ref),
        obs.start,
        obs.end,
        obs.url,
        error,
        doc,
        obs.ref,
        elapsed,
        {
            n: {"duration_s": seconds_between(t.start, t.end), "id": t.native_id or None}
            for n, t in obs.tasks.items()
        },
    )


def observed(side: str, obs: Observation, entry: WorkflowEntry) -> SideOutcome:
    """The outcome of a run that finished on its own (a scheduler's: the watcher triggers nothing)."""
    return _outcome(side, obs, document(obs, entry.shadow.task_map, prefect_side=side == "prefect"), None)


def run_side(
    backends: Backends,
    side: str,
    workflow_id: str,
    conf: Mapping[str, Any],
    corr: str,
    timeout: float,
    entry: WorkflowEntry,
    progress: SideProgress | None,
    at: datetime | None = None,
) -> SideOutcome:
    backend = backends.get(side)
    started = time.monotonic()
    if side == "prefect":  # the primary was checked before either side started
        ensure_startable(backends, side, workflow_id, waiting=True)
    ref = backend.trigger(workflow_id, conf, corr, at=at)
    try:
        backend.wait(ref, timeout, (lambda st, el: progress(side, st, el)) if progress else None)
        obs = backend.observe(ref)
    except BridgeError as exc:  # a server down mid-wait: the error names the run left going
        raise exc.about(format_run_id(ref)) from None
    return _outcome(
        side,
        obs,
        document(obs, entry.shadow.task_map, prefect_side=side == "prefect"),
        time.monotonic() - started,
    )


def _shadow_side(*args: Any) -> SideOutcome:
    """The shadow side never raises: whatever goes wrong becomes its outcome."""
    from bridge.errors import BackendUnavailableError, WaitTimeoutError

    try:
        return run_side(*args)
    except WaitTimeoutError as exc:
        return SideOutcome("prefect", "timeout", run=exc.run, error=str(exc))
    except BackendUnavailableError as exc:
        return SideOutcome("prefect", "unavailable", run=exc.run, error=str(exc))
    except Exception as exc:
        return SideOutcome("prefect", "error", error=f"{type(exc).__name__}: {exc}")


def run(
    backends: Backends,
    dag_id: str,
    conf: Mapping[str, Any],
    *,
    timeout: float,
    correlation_id: str | None = None,
    progress: SideProgress | None = None,
    noise: Sequence[NoiseSpread] = (),
    at: datetime | None = None,
    unpause: bool = False,
    say: Callable[[str], object] = lambda line: None,
) -> ShadowResult:
    """Run ``dag_id`` on both sides at once and compare. Primary errors (cannot trigger, timeout) raise;
    so does a paused primary DAG (unless ``unpause``) or one whose run could not start, before anything
    is triggered. A shadow side whose run could not start (no live worker) is its outcome, unavailable.

    Before triggering, the start state the workflow reads from its own target is copied from the primary
    target into the shadow target, and a marker is taken on the targets' database, so each table is
    compared over the rows either side wrote in this run."""
    entry = backends.catalog.entry(dag_id)
    if not entry.deployment:
        raise UnknownWorkflowError(dag_id, [d for d, e in backends.catalog.workflows.items() if e.deployment])
    settings = entry.shadow
    corr = correlation_id or new_correlation_id()
    primary_target = str(conf.get("target", settings.primary_target))
    shadow_target = settings.shadow_target(primary_target)
    shadow_conf = entry.params.apply({**conf, "target": shadow_target})
    shadow_conf = flow_parameters(backends, dag_id, shadow_conf, say)  # refused before either side starts
    started = time.monotonic()
    ensure_startable(backends, "airflow", dag_id, unpause=unpause, waiting=True, say=say)
    targets = prepare_targets(
        backends.catalog.warehouse_url or default_warehouse_url(), settings, primary_target, [shadow_target]
    )
    # A daemon thread: if the primary raises, the caller exits without waiting for the shadow.
    holder: list[SideOutcome] = []
    thread = threading.Thread(
        target=lambda: holder.append(
            _shadow_side(
                backends,
                "prefect",
                entry.deployment,
                shadow_conf,
                corr,
                settings.timeout,
                entry,
                progress,
                at,
            )
        ),
        name="shadow",
        daemon=True,
    )
    thread.start()
    primary = run_side(backends, "airflow", dag_id, conf, corr, timeout, entry, progress, at)
    thread.join()
    shadow = holder[0]
    differences, tables = compare(
        entry,
        primary,
        shadow,
        Targets(primary_target, shadow_target, targets.url, targets.markers),
        noise,
        conf,
    )
    verdict = decide(primary, shadow, differences, tables)
    return ShadowResult(
        dag_id,
        corr,
        dict(conf),
        verdict,
        primary,
        shadow,
        tuple(differences),
        tuple(tables),
        time.monotonic() - started,
        deployment=entry.deployment,
        at=at,
    )


class History(Protocol):
    """What the shadow job needs of the history store (``bridge.store.Store``): the workflow's
    calibrated noise, and a place to record a comparison (returning its id)."""

    def noise_paths(self, workflow: str) -> list[NoiseSpread]: ...

    def record(self, comparison: ShadowResult) -> int: ...


def check_origin(origin: str) -> Origin:
    """``origin`` if it is one of :data:`ORIGINS`, else a UsageError naming them."""
    for known in ORIGINS:
        if origin == known:
            return known
    raise UsageError(f"unknown comparison origin {origin!r}; use one of {', '.join(ORIGINS)}")


def record(
    store: History, result: ShadowResult, *, origin: Origin, backends: Backends | None = None
) -> ShadowResult:
    """Record ``result`` as a comparison of ``origin``; return it as recorded (its id and origin set).
    With ``backends``, its verdict is then published (bridge.publish: in the background, never raises)."""
    stamped = replace(result, origin=check_origin(origin))
    recorded = replace(stamped, comparison_id=store.record(stamped))
    if backends is not None:
        from bridge import publish

        publish.after_comparison(store, backends, recorded)
    return recorded


def run_and_record(
    store: History,
    backends: Backends,
    dag_id: str,
    conf: Mapping[str, Any],
    *,
    origin: Origin,
    timeout: float,
    correlation_id: str | None = None,
    progress: SideProgress | None = None,
    at: datetime | None = None,
    unpause: bool = False,
    say: Callable[[str], object] = lambda line: None,
) -> ShadowResult:
    """The shadow job: run ``dag_id`` on both sides (:func:`run`), compare with the workflow's calibrated
    noise from ``store``, record the comparison with its ``origin``; return it as recorded. Raises what
    :func:`run` raises (the primary could not run: nothing is recorded) and ``StoreError``."""
    check_origin(origin)
    result = run(
        backends,
        dag_id,
        conf,
        timeout=timeout,
        correlation_id=correlation_id,
        progress=progress,
        noise=store.noise_paths(dag_id),
        at=at,
        unpause=unpause,
        say=say,
    )
    return record(store, result, origin=origin, backends=backends)


def identity(outcome: SideOutcome, target: str) -> RunIdentity:
    """What normalization may mask of one side's run: its ids, target, URL, start and end."""
    return RunIdentity.of(outcome.run_ids(), [target], [outcome.url], outcome.start, outcome.end)


def compare(
    entry: WorkflowEntry,
    primary: SideOutcome,
    shadow: SideOutcome,
    targets: Targets,
    noise: Sequence[NoiseSpread],
    conf: Mapping[str, Any],
) -> tuple[list[Difference], list[TableDiff]]:
    """Value differences of the two documents, and every table the run wrote (both sides ok only). A side
    whose values could not be read is not compared: its outcome says why."""
    if primary.document is None or shadow.document is None or UNREADABLE in (primary.state, shadow.state):
        return [], []
    s = entry.shadow
    a = normalize(primary.document, identity(primary, targets.primary), s.unordered)
    b = normalize(shadow.document, identity(shadow, targets.other), s.unordered)
    differences = diff(a, b, float_tolerance=s.float_tolerance, ignore=s.ignore, noise=noise)
    tables: list[TableDiff] = []
    if primary.ok and shadow.ok and s.compares_tables:
        from bridge.compare.outputs import compare_outputs

        result = primary.document.get("result")
        values = {**(result if isinstance(result, Mapping) else {}), **conf}
        try:
            tables = compare_outputs(s, targets, values)
        except BridgeError as exc:  # the targets' database gone: a verdict that says so, never a match
            tables = [TableDiff(f"{targets.primary} / {targets.other}", (), 0, 0, error=str(exc))]
    return differences, tables


def document(
    obs: Observation, task_map: Mapping[str, str] | None = None, prefect_side: bool = False
) -> dict[str, Any]:
    """What is compared of an observation: final state, per-task states and values, the result.
    Prefect task names are mapped back to Airflow task ids through ``task_map`` (default: same names)."""
    back = {v: k for k, v in (task_map or {}).items()} if prefect_side else {}
    return {
        "state": obs.state.value,
        "tasks": {
            back.get(name, name): {"state": t.state.value, "value": t.value} for name, t in obs.tasks.items()
        },
        "result": obs.result,
    }


def decide(
    primary: SideOutcome, shadow: SideOutcome, differences: list[Difference], tables: list[TableDiff]
) -> str:
    if not primary.ok and not shadow.ok:
        return model.BOTH_FAILED
    if not primary.ok:
        return model.PRIMARY_FAILED
    if not shadow.ok:
        return model.SHADOW_FAILED
    if any(d.kind not in model.SET_ASIDE for d in differences) or any(not t.equal for t in tables):
        return model.MISMATCH
    return model.MATCH
