"""Schedule parity: do Airflow and Prefect fire a workflow at the same instants?

Airflow's next fire time is read from its API (``next_dagrun_run_after``: the end of the data interval,
when the run starts); the following ones come from the DAG's timetable cron in the zone that reproduces
that instant. Prefect's come from the deployment's active schedule (cron and timezone). Both lists are
compared in UTC; a constant offset is explained (one schedule interval, or the two timezones' offsets).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from bridge.errors import UsageError


@dataclass(frozen=True)
class Parity:
    workflow: str
    airflow: tuple[datetime, ...]
    prefect: tuple[datetime, ...]
    verdict: str  # equal | offset | different
    offset: timedelta | None
    explanation: str

    @property
    def equal(self) -> bool:
        return self.verdict == "equal"


def zone(tz: str) -> tzinfo:
    """A zone by IANA name, or a fixed offset written ``UTC+HH:MM`` / ``UTC-HH:MM``."""
    if tz.startswith("UTC") and len(tz) == 9:
        sign = -1 if tz[3] == "-" else 1
        return timezone(sign * timedelta(hours=int(tz[4:6]), minutes=int(tz[7:9])))
    return ZoneInfo(tz)


def fire_times(cron: str, tz: str, after: datetime, n: int) -> list[datetime]:
    """The next ``n`` fire times of ``cron`` in zone ``tz`` strictly after ``after``, in UTC."""
    from croniter import croniter

    it = croniter(cron, after.astimezone(zone(tz)))
    return [it.get_next(datetime).astimezone(UTC) for _ in range(n)]


def _fixed_offsets() -> list[str]:
    steps = range(-12 * 4, 14 * 4 + 1)
    return [
        f"UTC{'-' if q < 0 else '+'}{abs(q) // 4:02d}:{abs(q) % 4 * 15:02d}" for q in sorted(steps, key=abs)
    ]


def airflow_zone(cron: str, run_after: datetime, candidates: list[str]) -> str | None:
    """The first zone in which ``cron`` fires exactly at ``run_after``: a named candidate, else the fixed
    UTC offset that does (Airflow's API does not expose a DAG timetable's own zone)."""
    for tz in [*candidates, *_fixed_offsets()]:
        try:
            if fire_times(cron, tz, run_after - timedelta(seconds=1), 1)[0] == run_after:
                return tz
        except (KeyError, ValueError):
            continue
    return None


def compare(
    workflow: str,
    airflow: list[datetime],
    prefect: list[datetime],
    af_cron: str,
    af_tz: str,
    pf_cron: str,
    pf_tz: str,
) -> Parity:
    """Compare two lists of UTC fire times and explain a constant offset."""
    n = min(len(airflow), len(prefect))
    deltas = {airflow[i] - prefect[i] for i in range(n)}
    if deltas == {timedelta(0)}:
        return Parity(workflow, tuple(airflow), tuple(prefect), "equal", None, "same instants in UTC")
    if len(deltas) == 1:
        delta = deltas.pop()
        interval = prefect[1] - prefect[0] if n > 1 else None
        at = prefect[0]
        tz_gap = at.astimezone(zone(pf_tz)).utcoffset() - at.astimezone(zone(af_tz)).utcoffset()  # type: ignore[operator]
        if af_cron.split() == pf_cron.split() and af_tz != pf_tz and delta == tz_gap:
            why = (
                f"timezone: the same cron {af_cron!r} runs in {af_tz} on Airflow and in {pf_tz} on Prefect "
                f"({_fmt(delta)} apart)"
            )
        elif interval is not None and abs(delta) == interval:
            why = (
                f"interval end versus scheduled time: Airflow fires at the end of each data interval, "
                f"Prefect {'one interval earlier' if delta > timedelta(0) else 'one interval later'} "
                f"({_fmt(delta)}); shift one cron by an interval, or pass the business date explicitly"
            )
        else:
            why = f"a constant offset of {_fmt(delta)}: Airflow {af_cron!r} ({af_tz}) vs Prefect {pf_cron!r} ({pf_tz})"
        return Parity(workflow, tuple(airflow), tuple(prefect), "offset", delta, why)
    return Parity(
        workflow,
        tuple(airflow),
        tuple(prefect),
        "different",
        None,
        f"not a constant offset: Airflow {af_cron!r} ({af_tz}) vs Prefect {pf_cron!r} ({pf_tz})",
    )


def _fmt(delta: timedelta) -> str:
    sign = "-" if delta < timedelta(0) else "+"
    secs = int(abs(delta).total_seconds())
    return f"{sign}{secs // 3600}h{(secs % 3600) // 60:02d}m"


def check(backends: object, dag_id: str, n: int = 5) -> Parity:
    """Read both schedules of ``dag_id`` from the live servers and compare the next ``n`` fire times."""
    from bridge.backends.base import parse_time
    from bridge.operations import Backends, resolve

    assert isinstance(backends, Backends)
    af = backends.get("airflow")
    details = af.client.get(f"/dags/{dag_id}/details")  # type: ignore[attr-defined]
    target = resolve(backends.catalog, dag_id, "prefect", {})
    pf_wf = backends.get("prefect").get_workflow(target.workflow_id)
    af_cron, run_after = details.get("timetable_summary"), parse_time(details.get("next_dagrun_run_after"))
    if not af_cron or run_after is None:
        raise UsageError(
            f"{dag_id} has no cron schedule on Airflow (timetable: {details.get('timetable_description')})"
        )
    if not pf_wf.schedule or not pf_wf.timezone:
        raise UsageError(f"{target.workflow_id} has no active cron schedule on Prefect")
    af_tz = airflow_zone(af_cron, run_after, [details.get("timezone") or "UTC", pf_wf.timezone, "UTC"])
    if af_tz is None:
        raise UsageError(f"cannot reproduce Airflow's next run {run_after.isoformat()} from {af_cron!r}")
    airflow = fire_times(af_cron, af_tz, run_after - timedelta(seconds=1), n)
    return compare(
        dag_id,
        airflow,
        aligned(pf_wf.schedule, pf_wf.timezone, airflow),
        af_cron,
        af_tz,
        pf_wf.schedule,
        pf_wf.timezone,
    )


def aligned(cron: str, tz: str, reference: list[datetime]) -> list[datetime]:
    """Fire times of ``cron`` paired with ``reference``: starting from the one nearest its first instant."""
    period = reference[1] - reference[0] if len(reference) > 1 else timedelta(days=1)
    candidates = fire_times(cron, tz, reference[0] - period - timedelta(seconds=1), len(reference) + 3)
    start = min(range(3), key=lambda i: abs(candidates[i] - reference[0]))
    return candidates[start : start + len(reference)]
