"""Which business date a run processes, computed the same way on both orchestrators.

Airflow (legacy DAG, ``CronDataIntervalTimetable``) runs at the END of a data interval and processes its
START: the run that fires at 06:00 on the 10th (daily) covers 06:00 on the 9th to 06:00 on the 10th, and
its business date is the 9th. A manual Airflow run at any time T gets the last complete interval before
T (``infer_manual_data_interval``): end = latest fire time <= T, start = the fire time before that.

Prefect runs AT the scheduled time, with no data interval. ``business_date`` applies Airflow's rule to
that time, so the Prefect run scheduled at the same instant as an Airflow run gets the same date:

    end   = latest fire time of the schedule at or before ``scheduled``
    start = the fire time before ``end``
    business date = the calendar date of ``start`` in the schedule's timezone

An explicit ``business_date`` parameter always wins (that is how a run for date D is repeated, or run
on both sides for the same D).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from pipelines.common.schedules import CronSchedule

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def business_date(scheduled: datetime, schedule: CronSchedule) -> date:
    """The business date of a run scheduled at ``scheduled`` (aware) on ``schedule``.

    ``schedule`` carries the timezone and the interval (hourly, or daily at H:M).
    """
    end = schedule.fire_at_or_before(scheduled)
    start = schedule.previous_fire(end)
    return start.astimezone(schedule.zone).date()


def interval_start_date(interval_start: datetime, schedule: CronSchedule) -> date:
    """The business date of an Airflow run from its data interval start: its date in the schedule's zone."""
    if interval_start.tzinfo is None or interval_start.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {interval_start!r}")
    return interval_start.astimezone(schedule.zone).date()


def parse_business_date(value: str | date | None) -> date | None:
    """``None`` stays ``None``; a ``date`` or a ``YYYY-MM-DD`` string becomes a ``date``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        raise ValueError(f"business_date must be a date, not a datetime: {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        return date.fromisoformat(value.strip())
    raise ValueError(f"business_date must be YYYY-MM-DD, got {value!r}")


def resolve_business_date(
    explicit: str | date | None,
    schedule: CronSchedule,
    *,
    interval_start: datetime | None = None,
    scheduled: datetime | None = None,
) -> date:
    """The business date of a run, first match wins: the explicit parameter; the data interval start
    (Airflow); the scheduled time through ``business_date`` (Prefect, and Airflow runs without one)."""
    parsed = parse_business_date(explicit)
    if parsed is not None:
        return parsed
    if interval_start is not None:
        return interval_start_date(interval_start, schedule)
    if scheduled is not None:
        return business_date(scheduled, schedule)
    raise ValueError("cannot resolve a business date: no explicit date, data interval or scheduled time")
