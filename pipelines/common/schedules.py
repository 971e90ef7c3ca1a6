"""The schedule shapes the workflows use and the fire-time arithmetic the business date needs.

Only the three shapes the jobs use are supported, with ``zoneinfo`` instead of croniter:
``M * * * *`` (every hour at minute M), ``M H * * *`` (every day at H:M, wall-clock time in the
schedule's timezone) and ``M H * * D`` (``WeeklySchedule``: once a week, on weekday D, 0 = Sunday).
The schedules themselves are written once, in the workflow registry (``pipelines.common.workflows``).

Hourly steps are taken in absolute time; daily and weekly fire times are local wall-clock times, so they
keep their local hour across DST changes. A fire time that falls in a DST gap or overlap resolves the way
``zoneinfo`` does (``fold=0``); the shipped schedules never hit one (their zones are UTC and one that has
had no DST since 2019 and never changed clocks at their hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class CronSchedule:
    """Every hour at ``minute`` (``hour is None``), or every day at ``hour:minute``, in ``timezone``."""

    minute: int
    hour: int | None
    timezone: str

    def __post_init__(self) -> None:
        if not 0 <= self.minute <= 59 or (self.hour is not None and not 0 <= self.hour <= 23):
            raise ValueError(f"invalid schedule time hour={self.hour} minute={self.minute}")
        ZoneInfo(self.timezone)  # raises ZoneInfoNotFoundError for an unknown zone

    @classmethod
    def parse(cls, cron: str, timezone_name: str = "UTC") -> CronSchedule:
        """Parse ``"M * * * *"`` or ``"M H * * *"``; anything else is refused."""
        fields = cron.split()
        valid = (
            len(fields) == 5
            and fields[2:] == ["*", "*", "*"]
            and fields[0].isdigit()
            and (fields[1] == "*" or fields[1].isdigit())
        )
        if not valid:
            raise ValueError(f"unsupported cron {cron!r}: only 'M * * * *' and 'M H * * *'")
        hour = None if fields[1] == "*" else int(fields[1])
        return cls(minute=int(fields[0]), hour=hour, timezone=timezone_name)

    @property
    def cron(self) -> str:
        return f"{self.minute} {'*' if self.hour is None else self.hour} * * *"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def interval(self) -> str:
        """``"hourly"`` or ``"daily"``."""
        return "hourly" if self.hour is None else "daily"

    def fire_at_or_before(self, moment: datetime) -> datetime:
        """The latest fire time ``<= moment`` (aware, in the schedule's zone)."""
        moment_utc = _utc(moment)
        local = moment_utc.astimezone(self.zone)
        if self.hour is None:
            candidate = local.replace(minute=self.minute, second=0, microsecond=0)
            if _utc(candidate) > moment_utc:
                candidate = (_utc(candidate) - _HOUR).astimezone(self.zone)
            return candidate
        candidate = self._daily(local.date())
        if _utc(candidate) > moment_utc:
            candidate = self._daily(local.date() - _DAY)
        return candidate

    def previous_fire(self, fire: datetime) -> datetime:
        """The fire time strictly before the fire time ``fire``."""
        if self.hour is None:
            return (_utc(fire) - _HOUR).astimezone(self.zone)
        return self._daily(_utc(fire).astimezone(self.zone).date() - _DAY)

    def next_fire(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment``."""
        latest = self.fire_at_or_before(moment)
        if self.hour is None:
            return (_utc(latest) + _HOUR).astimezone(self.zone)
        return self._daily(latest.date() + _DAY)

    def _daily(self, day: date) -> datetime:
        assert self.hour is not None
        return datetime.combine(day, time(self.hour, self.minute), tzinfo=self.zone)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {moment!r}")
    return moment.astimezone(UTC)


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
