"""Replay a workflow's schedule: every instant its scheduler fired between two instants, each run on both
sides as if the schedulers had fired then (``shadow.run_and_record(at=...)``), one comparison per instant,
each recorded as it ends with origin ``replay``.

The instants come from the schedule as Airflow (the legacy side, the reference) reports it: the DAG's cron
(``timetable_summary``) in the zone that reproduces its next fire time (``next_dagrun_run_after``), since
the API reports the DAG's zone, not its timetable's (see ``bridge.parity.airflow_zone``). No conf of a
replay carries ``business_date``: each side derives it from the instant, which is what a replay checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bridge.errors import BridgeError, UsageError

if TYPE_CHECKING:
    from bridge.operations import Backends
    from bridge.shadow import History, ShadowResult, SideProgress

MAX_INSTANTS = 168  # a week of an hourly schedule: each instant is a shadow run of both sides
EXAMPLE = "2024-12-31T08:30:00Z"


@dataclass(frozen=True)
class Schedule:
    """A workflow's schedule as Airflow runs it: a cron in a zone (an IANA name or ``UTC±HH:MM``)."""

    workflow: str
    cron: str
    timezone: str

    def describe(self) -> str:
        return f"{self.cron!r} in {self.timezone}"


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_instant(moment: datetime) -> str:
    """``2024-12-31T09:00:00Z``: an instant in UTC, as the CLI prints and reads it."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def parse_instant(text: str, flag: str = "--at") -> datetime:
    """An ISO-8601 instant (``2024-12-31T08:30:00Z``, ``...-03:00``; naive means UTC) as aware UTC."""
    value = (text or "").strip()
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "zZ" and value else value)
    except ValueError:
        raise UsageError(
            f"{flag} {text!r} is not an ISO-8601 instant: write e.g. {EXAMPLE} "
            "(a time without an offset means UTC)"
        ) from None
    return as_utc(moment)


def refuse_future(moment: datetime, what: str = "--at", now: datetime | None = None) -> None:
    """A replay runs instants the schedulers have already fired: refuse one after ``now``."""
    now = now or datetime.now(UTC)
    if as_utc(moment) > now:
        raise UsageError(
            f"{what} {format_instant(moment)} is in the future (now {format_instant(now.replace(microsecond=0))}): "
            "replay only instants the schedulers have already fired"
        )


def refuse_business_date(conf: Mapping[str, Any], flag: str = "--at") -> None:
    """A replayed run must derive its business date from the instant: refuse a conf that sets it."""
    if conf.get("business_date") not in (None, ""):
        raise UsageError(
            f"{flag} lets each side derive the business date from the instant: drop business_date "
            f"({conf['business_date']!r}) from --conf"
        )


def schedule_from_details(
    dag_id: str, details: Mapping[str, Any], zone_hints: Sequence[str] = ()
) -> Schedule:
    """The schedule of an Airflow DAG from its details payload; ``zone_hints``: named zones to try
    (e.g. the Prefect deployment's) before the DAG's own and fixed UTC offsets."""
    from croniter import croniter

    from bridge.backends.base import parse_time
    from bridge.parity import airflow_zone

    cron = details.get("timetable_summary")
    described = details.get("timetable_description") or "none"
    if not cron or details.get("timetable_periodic") is False:
        raise UsageError(
            f"{dag_id} is not scheduled on Airflow (timetable: {described}): it has no instants to "
            f"replay; run it with `bridge trigger {dag_id} --shadow --conf ...`"
        )
    if not croniter.is_valid(cron):
        raise UsageError(f"{dag_id}'s Airflow timetable is not a cron ({cron!r}: {described}): cannot replay")
    run_after = parse_time(details.get("next_dagrun_run_after"))
    candidates = [*zone_hints, details.get("timezone") or "UTC", "UTC"]
    if run_after is None:  # no next run known (e.g. past its end_date): trust the DAG's zone
        return Schedule(dag_id, cron, candidates[len(zone_hints)])
    tz = airflow_zone(cron, run_after, [c for c in candidates if c])
    if tz is None:
        raise UsageError(
            f"cannot reproduce {dag_id}'s next Airflow run {format_instant(run_after)} from {cron!r} "
            "in any zone: cannot replay its schedule"
        )
    return Schedule(dag_id, cron, tz)


def instants(schedule: Schedule, start: datetime, end: datetime, cap: int = MAX_INSTANTS) -> list[datetime]:
    """The fire times of ``schedule`` from ``start`` to ``end``, both inclusive, in UTC (at most ``cap``)."""
    from croniter import croniter

    from bridge.parity import zone

    start, end = as_utc(start), as_utc(end)
    if end < start:
        raise UsageError(f"--to {format_instant(end)} is before --from {format_instant(start)}")
    it = croniter(schedule.cron, (start - timedelta(seconds=1)).astimezone(zone(schedule.timezone)))
    found: list[datetime] = []
    while True:
        moment = it.get_next(datetime).astimezone(UTC)
        if moment < start:
            continue
        if moment > end:
            return found
        if len(found) == cap:
            raise UsageError(
                f"more than {cap} instants of {schedule.workflow} ({schedule.describe()}) from "
                f"{format_instant(start)} to {format_instant(end)}; each is a shadow run of both sides: "
                f"narrow --from/--to (the first {cap} end at {format_instant(found[-1])})"
            )
        found.append(moment)


def airflow_schedule(backends: Backends, dag_id: str) -> Schedule:
    """``dag_id``'s schedule as Airflow reports it, the Prefect deployment's zone tried first as a name."""
    from bridge.backends.airflow import AirflowBackend

    airflow = backends.get("airflow")
    if not isinstance(airflow, AirflowBackend):
        raise UsageError("a replay reads the schedule from Airflow's REST API; this Airflow backend has none")
    hints: list[str] = []
    deployment = backends.catalog.entry(dag_id).deployment
    if deployment:
        try:
            tz = backends.get("prefect").get_workflow(deployment).timezone
        except BridgeError:
            tz = None  # only a hint: the shadow runs report an unreachable Prefect themselves
        hints += [tz] if tz else []
    return schedule_from_details(dag_id, airflow.dag_details(dag_id), hints)


def plan(
    backends: Backends,
    dag_id: str,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    schedule: Schedule | None = None,
) -> tuple[Schedule, list[datetime]]:
    """The schedule (Airflow's, unless given) and the instants a replay of ``dag_id`` from ``start`` to
    ``end`` runs; refused in one line if there is none, too many, or one not fired yet."""
    schedule = schedule or airflow_schedule(backends, dag_id)
    found = instants(schedule, start, end)
    if not found:
        raise UsageError(
            f"no scheduled instant of {dag_id} ({schedule.describe()}) from {format_instant(start)} to "
            f"{format_instant(end)}: widen --from/--to"
        )
    refuse_future(found[-1], f"{dag_id}'s instant", now)
    return schedule, found


def replay(
    store: History,
    backends: Backends,
    dag_id: str,
    start: datetime,
    end: datetime,
    conf: Mapping[str, Any] | None = None,
    *,
    timeout: float,
    progress: SideProgress | None = None,
    on_instant: Callable[[int, int, datetime], None] | None = None,
    on_result: Callable[[ShadowResult], None] | None = None,
    schedule: Schedule | None = None,
) -> list[ShadowResult]:
    """One shadow comparison of ``dag_id`` per scheduled instant from ``start`` to ``end`` (inclusive),
    each side triggered as if its scheduler fired then, each recorded in ``store`` (origin ``replay``)
    as it ends; ``on_instant(i, n, instant)`` before each, ``on_result`` after with the recorded
    comparison; ``schedule``: Airflow's, read once by the caller. A primary that cannot run (trigger
    refused, timeout) stops the replay; the instants before it stay recorded."""
    from bridge import shadow

    conf = dict(conf or {})
    refuse_business_date(conf, "a replay")
    _, found = plan(backends, dag_id, start, end, schedule=schedule)
    results = []
    for i, instant in enumerate(found, 1):
        if on_instant:
            on_instant(i, len(found), instant)
        result = shadow.run_and_record(
            store, backends, dag_id, conf, origin="replay", timeout=timeout, progress=progress, at=instant
        )
        results.append(result)
        if on_result:
            on_result(result)
    return results


def business_dates(result: ShadowResult) -> dict[str, str | None]:
    """The business date each side's run derived (its result's ``business_date``), by side."""
    dates: dict[str, str | None] = {}
    for side in result.sides():
        doc = side.document or {}
        value = doc.get("result")
        dates[side.side] = (
            str(value["business_date"]) if isinstance(value, Mapping) and value.get("business_date") else None
        )
    return dates
