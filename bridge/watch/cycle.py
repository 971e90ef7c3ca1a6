"""One watcher cycle, and the loop around it.

A cycle: read the stages (the store's win), list the runs of every watched workflow since the oldest
cursor (one paged request per server), decide each unsettled instant (:func:`bridge.watch.pairing.decide`),
record each comparison or ``missing`` with origin ``scheduled`` (:func:`bridge.shadow.record`), then move
each workflow's cursor to its oldest waiting instant. A crash anywhere leaves either the comparison
recorded (its pair id is unique: the next cycle skips it) or not (the cursor has not passed it: the next
cycle makes it). A workflow newly watched starts ``settle`` after its stage changed (the store's record),
or after the watcher first saw it: Prefect's scheduler makes a resumed deployment's runs on its next
loop (60 s), so the first instants after a promotion are not a divergence.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge import shadow
from bridge.compare.targets import Marker
from bridge.config import WorkflowEntry, default_warehouse_url
from bridge.errors import BridgeError, DatabaseUnavailableError, StoreError
from bridge.operations import Backends
from bridge.shadow import ShadowResult
from bridge.store import Store
from bridge.watch import pairing
from bridge.watch.listing import ScheduledRun, airflow_runs, deployment_ids, prefect_runs
from bridge.watch.pairing import WATCHED_STAGES, Decision
from bridge.watch.state import WatchState, pair_id

#: A run may start this long before its instant (a Prefect worker's prefetch): a window's marker is the
#: last one taken at least this long before the instant.
PREFETCH = timedelta(seconds=15)


@dataclass(frozen=True)
class WatchSettings:
    """``grace``: how long after an instant a run of it may still appear on the other side before that
    side is ``missing``. ``settle``: how long after a workflow becomes watched before its instants count.
    ``interval``: seconds between cycles."""

    grace: timedelta = timedelta(minutes=5)
    settle: timedelta = timedelta(minutes=2)
    interval: float = 30.0


@dataclass
class CycleReport:
    """What one cycle did."""

    at: datetime
    watched: int = 0
    listed: dict[str, int] = field(default_factory=dict)  # runs listed per side
    recorded: list[ShadowResult] = field(default_factory=list)
    waiting: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _stage(backends: Backends, stored: Mapping[str, str], dag_id: str) -> str:
    return stored.get(dag_id) or backends.catalog.entry(dag_id).stage


class Watcher:
    """Pairs and compares the scheduled runs of the watched workflows, one cycle at a time."""

    def __init__(
        self,
        backends: Backends,
        store: Store,
        settings: WatchSettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.backends = backends
        self.store = store
        self.settings = settings or WatchSettings()
        self.state = WatchState(store)
        self.clock = clock
        self._deployments: dict[str, str] = {}  # deployment name -> id, resolved once

    def stages(self) -> dict[str, str]:
        """Each watched workflow's stage, read again every cycle (a promotion or a rollback in between)."""
        from bridge.cutover.truth import stored_stages

        stored = stored_stages(self.backends.catalog)
        out: dict[str, str] = {}
        for dag_id, entry in self.backends.catalog.workflows.items():
            stage = _stage(self.backends, stored, dag_id)
            if entry.deployment and stage in WATCHED_STAGES:
                out[dag_id] = stage
        return out

    def _start(self, dag_id: str, now: datetime) -> datetime:
        from bridge.cutover.ledger import Ledger

        record = Ledger(self.store).current(dag_id)
        since = record.since if record is not None else now
        return min(since, now) + self.settings.settle

    def cycle(self) -> CycleReport:
        """One cycle (see the module's docstring). Raises BridgeError when a server cannot be listed."""
        started = time.monotonic()
        now = self.clock()
        report = CycleReport(now)
        stages = self.stages()
        report.watched = len(stages)
        if not stages:
            return report
        cursors = self.state.cursors()
        cursors.update({w: self._start(w, now) for w in stages if w not in cursors})
        since = min(cursors[w] for w in stages)
        entries = {w: self.backends.catalog.entry(w) for w in stages}
        runs = self._list(entries, since, now)
        report.listed = {side: len(r) for side, r in runs.items()}
        self._take_markers(entries.values(), now)
        by: dict[str, dict[str, list[ScheduledRun]]] = {w: {"airflow": [], "prefect": []} for w in stages}
        for side, listed in runs.items():
            for run in listed:
                if run.workflow in by:
                    by[run.workflow][side].append(run)
        candidates = [pair_id(r.workflow, r.instant) for listed in runs.values() for r in listed]
        done = self.state.done(candidates)
        moved: dict[str, datetime] = {}
        for dag_id, stage in sorted(stages.items()):
            decisions = pairing.decide(
                dag_id,
                by[dag_id]["airflow"],
                by[dag_id]["prefect"],
                done,
                cursors[dag_id],
                now,
                self.settings.grace,
            )
            settled = self._settle(entries[dag_id], stage, decisions, report)
            moved[dag_id] = pairing.next_cursor(cursors[dag_id], settled, now, self.settings.grace)
        self.state.save_cursors(moved)
        if report.recorded:  # gates turned red, the metrics textfile
            from bridge import followup

            followup.after_comparisons(
                self.store, self.backends.catalog, [r.workflow for r in report.recorded]
            )
        report.seconds = time.monotonic() - started
        return report

    def _list(
        self, entries: Mapping[str, WorkflowEntry], since: datetime, now: datetime
    ) -> dict[str, list[ScheduledRun]]:
        names = {e.deployment: w for w, e in entries.items() if e.deployment}
        unknown = [n for n in names if n not in self._deployments]
        if unknown:
            self._deployments.update(deployment_ids(self.backends.get("prefect"), unknown))
        ids = {self._deployments[n]: (w, n) for n, w in names.items() if n in self._deployments}
        return {
            "airflow": airflow_runs(self.backends.get("airflow"), list(entries), since, now),
            "prefect": prefect_runs(self.backends.get("prefect"), ids, since, now) if ids else [],
        }

    def _urls(self, entries: Sequence[WorkflowEntry] | Any) -> set[str]:
        url = self.backends.catalog.warehouse_url or default_warehouse_url()
        out: set[str] = set()
        for e in entries:
            if e.shadow.uses_targets:
                out |= {url} | {u for t in e.shadow.tables for u in (t.airflow_url, t.prefect_url) if u}
        return out

    def _take_markers(self, entries: Any, now: datetime) -> None:
        from bridge.compare.targets import take_marker

        for url in sorted(self._urls(list(entries))):
            try:
                self.state.add_marker(url, now, take_marker(url))
            except DatabaseUnavailableError:
                continue  # no marker: that window's tables are compared by scope or whole

    def _markers(self, entry: WorkflowEntry, instant: datetime) -> dict[str, Marker]:
        found = {url: self.state.marker_before(url, instant - PREFETCH) for url in self._urls([entry])}
        return {url: m for url, m in found.items() if m is not None}

    def _settle(
        self, entry: WorkflowEntry, stage: str, decisions: Sequence[Decision], report: CycleReport
    ) -> list[Decision]:
        """Record each decided instant; return the decisions with those not recorded turned to wait."""
        out: list[Decision] = []
        for d in decisions:
            if d.action == "wait":
                report.waiting += 1
                out.append(d)
                continue
            try:
                result = self._result(entry, stage, d)
                report.recorded.append(self._record(result))
                out.append(d)
            except BridgeError as exc:  # a server or the targets gone: retried next cycle, never skipped
                report.errors.append(f"{entry.dag_id} at {d.instant.isoformat()}: {exc}")
                out.append(Decision(d.workflow, d.instant, "wait", d.airflow, d.prefect))
        return out

    def _result(self, entry: WorkflowEntry, stage: str, d: Decision) -> ShadowResult:
        if d.action == "missing":
            return pairing.missing_result(self.backends, entry, stage, d, self.settings.grace)
        noise = self.store.noise_paths(entry.dag_id)
        return pairing.compare_pair(self.backends, entry, stage, d, noise, self._markers(entry, d.instant))

    def _record(self, result: ShadowResult) -> ShadowResult:
        try:
            return shadow.record(self.store, result, origin="scheduled", backends=self.backends)
        except StoreError:
            if self.state.done([result.correlation_id]):  # another watcher recorded it first
                return result
            raise

    def run(
        self,
        *,
        once: bool = False,
        say: Callable[[CycleReport], object] = lambda r: None,
        error: Callable[[BridgeError], object] = lambda e: None,
        cycles: int | None = None,
    ) -> None:
        """Cycle every ``interval`` seconds (once with ``once``: its error raises). A long-running watcher
        reports a cycle's error and goes on: a server down is retried on the next cycle."""
        done = 0
        while True:
            try:
                say(self.cycle())
            except BridgeError as exc:
                if once:
                    raise
                error(exc)
            done += 1
            if once or (cycles is not None and done >= cycles):
                return
            time.sleep(self.settings.interval)
