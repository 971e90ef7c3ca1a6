"""The schedules of scenario 3, including the weekly shape ``pipelines.schedules`` does not have.

``WeeklySchedule`` is a ``CronSchedule`` (so ``flows.spec.DeploymentSpec``, the DAGs' timetables and
``pipelines.business_date`` take it as is) that fires once a week, on ``weekday`` (cron numbering:
0 = Sunday) at ``hour:minute`` wall-clock time in its timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pipelines.schedules import CronSchedule

_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class WeeklySchedule(CronSchedule):
    """Every week on ``weekday`` (0 = Sunday ... 6 = Saturday) at ``hour:minute`` in ``timezone``."""

    weekday: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.hour is None or not 0 <= self.weekday <= 6:
            raise ValueError(f"a weekly schedule needs an hour and a weekday 0-6, got {self}")

    @property
    def cron(self) -> str:
        return f"{self.minute} {self.hour} * * {self.weekday}"

    @property
    def interval(self) -> str:
        return "weekly"

    def _weekly(self, day: date) -> datetime:
        """The fire time in the week of ``day``, on or before ``day``."""
        back = (day.isoweekday() % 7 - self.weekday) % 7  # isoweekday: Monday 1 .. Sunday 7 -> cron 1..0
        assert self.hour is not None
        return datetime.combine(day - timedelta(days=back), time(self.hour, self.minute), tzinfo=self.zone)

    def fire_at_or_before(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"an aware datetime is required, got naive {moment!r}")
        local = moment.astimezone(self.zone)
        candidate = self._weekly(local.date())
        if candidate > moment:
            candidate = self._weekly(local.date() - _WEEK)
        return candidate

    def previous_fire(self, fire: datetime) -> datetime:
        return self._weekly(fire.astimezone(self.zone).date() - _WEEK)

    def next_fire(self, moment: datetime) -> datetime:
        return self._weekly(self.fire_at_or_before(moment).astimezone(self.zone).date() + _WEEK)


#: ``etl_products``: every day at 02:00 America/Sao_Paulo (before the 06:00 price update).
ETL_PRODUCTS = CronSchedule(minute=0, hour=2, timezone="America/Sao_Paulo")
#: ``etl_orders``: every hour at minute 15, UTC.
ETL_ORDERS = CronSchedule(minute=15, hour=None, timezone="UTC")
#: ``full_migration_weekly``: Sundays at 03:00 America/Sao_Paulo.
FULL_MIGRATION_WEEKLY = WeeklySchedule(minute=0, hour=3, timezone="America/Sao_Paulo", weekday=0)
