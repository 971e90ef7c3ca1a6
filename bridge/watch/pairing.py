"""Pairing the runs both schedulers made, and comparing a pair that already ran (nothing is triggered).

:func:`decide` is pure: given one workflow's runs on each side since its cursor, the pairs already
recorded and the time, it says of each instant: ``compare`` (both sides ran it and both are final),
``missing`` (one side ran it and is final, the other has no run of it ``grace`` after the instant), or
``wait``. :func:`next_cursor` moves the cursor past what is settled and never past a waiting instant.
:func:`compare_pair` and :func:`missing_result` build the comparison the shadow job records, through
:mod:`bridge.shadow`'s own observation and comparison (with the table scope of :mod:`bridge.compare`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bridge import shadow
from bridge.compare import model
from bridge.compare.model import NoiseSpread
from bridge.compare.outputs import Targets
from bridge.compare.targets import Marker
from bridge.config import WorkflowEntry, default_warehouse_url
from bridge.operations import Backends
from bridge.shadow import ShadowResult, SideOutcome
from bridge.watch.listing import ScheduledRun
from bridge.watch.state import pair_id

#: Stages whose workflows are watched: both schedulers run it (``prefect``: Airflow as a reverse shadow).
WATCHED_STAGES = ("shadow", "prefect")
Action = Literal["compare", "missing", "wait"]


@dataclass(frozen=True)
class Decision:
    """What to do with one instant of one workflow."""

    workflow: str
    instant: datetime
    action: Action
    airflow: ScheduledRun | None = None
    prefect: ScheduledRun | None = None

    @property
    def pair_id(self) -> str:
        return pair_id(self.workflow, self.instant)


def _first_by_instant(runs: Sequence[ScheduledRun], cursor: datetime) -> dict[datetime, ScheduledRun]:
    by: dict[datetime, ScheduledRun] = {}
    for run in sorted(runs, key=lambda r: r.instant):
        if run.instant >= cursor:
            by.setdefault(run.instant, run)
    return by


def decide(
    workflow: str,
    airflow: Sequence[ScheduledRun],
    prefect: Sequence[ScheduledRun],
    done: Collection[str],
    cursor: datetime,
    now: datetime,
    grace: timedelta,
) -> list[Decision]:
    """Each instant at or after ``cursor`` that either side ran and no recorded comparison covers
    (``done`` holds pair ids), with what to do about it, oldest first."""
    a, p = _first_by_instant(airflow, cursor), _first_by_instant(prefect, cursor)
    out: list[Decision] = []
    for instant in sorted(set(a) | set(p)):
        if pair_id(workflow, instant) in done:
            continue
        ra, rp = a.get(instant), p.get(instant)
        action: Action
        if ra is not None and rp is not None:
            action = "compare" if ra.final and rp.final else "wait"
        else:
            present = ra or rp
            assert present is not None
            action = "missing" if present.final and now >= instant + grace else "wait"
        out.append(Decision(workflow, instant, action, ra, rp))
    return out


def next_cursor(cursor: datetime, decisions: Sequence[Decision], now: datetime, grace: timedelta) -> datetime:
    """The oldest instant still waiting, else ``now - grace`` (a run may still appear until then); never
    back."""
    horizon = now - grace
    waiting = [d.instant for d in decisions if d.action == "wait"]
    return max(cursor, min([*waiting, horizon]))


def sides_by_stage(stage: str) -> tuple[str, str]:
    """(authoritative side, shadow side): Airflow in ``shadow``, Prefect from ``prefect`` on."""
    return ("airflow", "prefect") if stage == "shadow" else ("prefect", "airflow")


def targets_for(
    backends: Backends, entry: WorkflowEntry, markers: Mapping[str, Marker] | None = None
) -> Targets:
    """The authoritative side's target (the primary) and the other's (the shadow target)."""
    settings = entry.shadow
    url = backends.catalog.warehouse_url or default_warehouse_url()
    return Targets(
        settings.primary_target, settings.shadow_target(settings.primary_target), url, markers or {}
    )


def _result(
    entry: WorkflowEntry,
    instant: datetime,
    verdict: str,
    first: SideOutcome,
    second: SideOutcome,
    differences: Sequence[model.Difference] = (),
    tables: Sequence[model.TableDiff] = (),
) -> ShadowResult:
    return ShadowResult(
        entry.dag_id,
        pair_id(entry.dag_id, instant),
        {},
        verdict,
        first,
        second,
        tuple(differences),
        tuple(tables),
        deployment=entry.deployment or "",
        at=instant,
        origin="scheduled",
    )


def compare_pair(
    backends: Backends,
    entry: WorkflowEntry,
    stage: str,
    pair: Decision,
    noise: Sequence[NoiseSpread] = (),
    markers: Mapping[str, Marker] | None = None,
) -> ShadowResult:
    """Observe both finished runs of ``pair`` and compare them as a shadow does (values, then tables over
    the rows written since ``markers``, or each table's declared scope, e.g. its business date)."""
    assert pair.airflow is not None and pair.prefect is not None
    outcomes = {
        run.side: shadow.observed(run.side, backends.get(run.side).observe(run.ref), entry)
        for run in (pair.airflow, pair.prefect)
    }
    first, second = (outcomes[side] for side in sides_by_stage(stage))
    differences, tables = shadow.compare(
        entry, first, second, targets_for(backends, entry, markers), noise, {}
    )
    verdict = shadow.decide(first, second, differences, tables)
    return _result(entry, pair.instant, verdict, first, second, differences, tables)


def missing_result(
    backends: Backends, entry: WorkflowEntry, stage: str, pair: Decision, grace: timedelta
) -> ShadowResult:
    """The comparison of an instant one side ran and the other did not within ``grace``: verdict
    ``missing``; the side that ran is observed, the other's outcome says what is missing."""
    present = pair.airflow or pair.prefect
    assert present is not None
    ran = shadow.observed(present.side, backends.get(present.side).observe(present.ref), entry)
    absent = "prefect" if present.side == "airflow" else "airflow"
    error = (
        f"{absent} has no scheduled run for {pair.instant.isoformat()} "
        f"({int(grace.total_seconds())} s after it, the grace window); {present.side} ran it"
    )
    gone = SideOutcome(absent, model.MISSING, error=error)
    first, second = (ran, gone) if sides_by_stage(stage)[0] == present.side else (gone, ran)
    return _result(entry, pair.instant, model.MISSING, first, second)
