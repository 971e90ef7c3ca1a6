"""update_prices_daily, wrong timezone: with no explicit ``business_date``, the date is derived from the
schedule read in UTC (06:00 UTC) instead of America/Sao_Paulo (06:00 there, 09:00 UTC). A run scheduled
between 06:00 and 09:00 UTC processes the day after the one Airflow processes."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from prefect import flow

import flows.common
import flows.cron
from flows.common import RESULTS
from pipelines.common.business_date import resolve_business_date
from pipelines.common.schedules import CronSchedule
from pipelines.common.targets import DEFAULT_TARGET


def in_utc(
    explicit: str | date | None,
    schedule: CronSchedule,
    *,
    interval_start: datetime | None = None,
    scheduled: datetime | None = None,
) -> date:
    """The bug: the schedule's timezone dropped (its clock time read as UTC)."""
    utc = dataclasses.replace(schedule, timezone="UTC")
    return resolve_business_date(explicit, utc, interval_start=interval_start, scheduled=scheduled)


@flow(name=flows.cron.UPDATE_PRICES_DAILY.flow_name, **RESULTS)
def update_prices_daily(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """The shipped flow, its business date resolved by ``in_utc``."""
    flows.common.resolve_business_date = in_utc
    return flows.cron.update_prices_daily.fn(target=target, business_date=business_date)
