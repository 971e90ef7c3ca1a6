"""The gates a cutover must pass: named conditions over the recorded evidence, each with what it saw.

Pure: the comparisons (newest first) and the live facts come in (bridge.cutover.evidence gathers them);
each gate says whether it holds and why, naming the comparison ids it counted. `bridge cutover` switches
only when every gate holds (or is forced, with a reason, and audited as such); `bridge gates` shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.config import CutoverSettings, IgnoreRule

SCHEDULED_ORIGINS = ("scheduled", "replay")  # evidence from the schedulers' runs (or their replay)
BAD_VERDICTS = ("mismatch", "shadow_failed", "missing")


@dataclass(frozen=True)
class Evidence:
    """One recorded comparison, as the gates count it."""

    id: int
    verdict: str
    origin: str
    at: datetime
    business_date: str | None = None  # the date the run processed (else its schedule instant's, or None)


@dataclass(frozen=True)
class LiveFacts:
    """What the gates ask the servers and the store besides the comparisons."""

    deployment: str | None  # the Prefect deployment's name; None: the catalog names none
    deployment_error: str | None = None  # why it cannot be read (missing, Prefect down)
    deployment_updated: datetime | None = None  # its last change on the server
    worker_blocker: str | None = None  # what keeps a run of it from starting (no live worker...)
    calibrated_at: datetime | None = None  # the newest valid calibration
    parity: str | None = None  # schedule parity: None holds, else what differs


@dataclass(frozen=True)
class Gate:
    name: str
    ok: bool
    detail: str
    evidence: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.name, "ok": self.ok, "detail": self.detail, "evidence": list(self.evidence)}


def evaluate(
    settings: CutoverSettings,
    history: Sequence[Evidence],
    ignore: Sequence[IgnoreRule],
    facts: LiveFacts,
) -> list[Gate]:
    """Every gate, in a fixed order; ``history`` is newest first."""
    window = list(history[: settings.streak])
    return [
        _streak(settings, window),
        _scheduled(settings, window),
        _clean(window),
        _calibration(facts),
        _ignore_reasons(ignore),
        _parity(facts),
        _deployment(facts),
    ]


def unmet(gates: Sequence[Gate]) -> list[Gate]:
    return [g for g in gates if not g.ok]


def _ids(items: Sequence[Evidence]) -> tuple[int, ...]:
    return tuple(e.id for e in items)


def _streak(settings: CutoverSettings, window: list[Evidence]) -> Gate:
    n = settings.streak
    matches = [e for e in window if e.verdict == "match"]
    if len(window) == n and len(matches) == n:
        return Gate("streak", True, f"the last {n} comparisons are match", _ids(window))
    if len(window) < n:
        why = f"{len(window)} comparison(s) recorded, {len(matches)} match"
    else:
        first = next(e for e in window if e.verdict != "match")
        why = f"#{first.id} is {first.verdict}"
    return Gate("streak", False, f"needs the last {n} comparisons match: {why}", _ids(window))


def _scheduled(settings: CutoverSettings, window: list[Evidence]) -> Gate:
    m, k = settings.min_scheduled, settings.min_business_dates
    scheduled = [e for e in window if e.origin in SCHEDULED_ORIGINS and e.verdict == "match"]
    dates = sorted({e.business_date for e in scheduled if e.business_date})
    seen = f"{len(scheduled)} scheduled/replayed match(es) over {len(dates)} business date(s)"
    if dates:
        seen += f" ({', '.join(dates[:5])}{'…' if len(dates) > 5 else ''})"
    ok = len(scheduled) >= m and len(dates) >= k
    detail = f"needs {m} scheduled or replayed matches over {k} business dates among the last {settings.streak}: {seen}"
    return Gate("scheduled_evidence", ok, detail if not ok else seen, _ids(scheduled))


def _clean(window: list[Evidence]) -> Gate:
    bad = [e for e in window if e.verdict in BAD_VERDICTS]
    if not bad:
        return Gate("no_failures", True, f"no {', '.join(BAD_VERDICTS)} among the last {len(window)}", ())
    listed = ", ".join(f"#{e.id} {e.verdict}" for e in bad)
    return Gate("no_failures", False, f"inside the window: {listed}", _ids(bad))


def _calibration(facts: LiveFacts) -> Gate:
    if facts.calibrated_at is None:
        return Gate("calibration", False, "no valid calibration recorded: run `bridge calibrate DAG_ID`")
    when = facts.calibrated_at.strftime("%Y-%m-%d %H:%M UTC")
    if facts.deployment_updated is not None and facts.deployment_updated > facts.calibrated_at:
        changed = facts.deployment_updated.strftime("%Y-%m-%d %H:%M UTC")
        return Gate(
            "calibration",
            False,
            f"the calibration of {when} is older than the deployment's last change ({changed}): calibrate again",
        )
    return Gate("calibration", True, f"calibrated {when}, after the deployment's last change")


def _ignore_reasons(ignore: Sequence[IgnoreRule]) -> Gate:
    missing = [r.path for r in ignore if not r.reason.strip()]
    if missing:
        return Gate("ignore_reasons", False, f"ignore rules without a reason: {', '.join(missing)}")
    return Gate("ignore_reasons", True, f"{len(ignore)} ignore rule(s), each with its reason")


def _parity(facts: LiveFacts) -> Gate:
    if facts.parity is None:
        return Gate("schedule_parity", True, "both schedules fire at the same instants (bridge parity)")
    return Gate("schedule_parity", False, facts.parity)


def _deployment(facts: LiveFacts) -> Gate:
    if facts.deployment is None:
        return Gate("deployment_ready", False, "the catalog names no Prefect deployment for it")
    if facts.deployment_error:
        return Gate("deployment_ready", False, facts.deployment_error)
    if facts.worker_blocker:
        return Gate("deployment_ready", False, facts.worker_blocker)
    return Gate("deployment_ready", True, f"{facts.deployment} exists and a live worker polls its pool")
