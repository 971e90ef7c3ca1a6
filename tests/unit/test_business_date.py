"""Business date: the Prefect port must process the same date as Airflow's data interval for the same fire time."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from pipelines.common.business_date import (
    business_date,
    interval_start_date,
    parse_business_date,
    resolve_business_date,
)
from pipelines.common.schedules import CronSchedule
from pipelines.common.workflows import workflow

pytestmark = pytest.mark.unit

UTC = UTC
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
AIRFLOW_PY = Path(__file__).resolve().parents[2] / ".venv-airflow" / "bin" / "python"

PROCESS_PRODUCTS = workflow("process_products").schedule
UPDATE_PRICES_DAILY = workflow("update_prices_daily").schedule


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def sp(*args: int) -> datetime:
    return datetime(*args, tzinfo=SAO_PAULO)


# -- the shipped schedules ------------------------------------------------------------------------------


def test_shipped_schedules() -> None:
    hourly = (PROCESS_PRODUCTS.cron, PROCESS_PRODUCTS.timezone, PROCESS_PRODUCTS.interval)
    assert hourly == ("0 * * * *", "UTC", "hourly")
    assert (UPDATE_PRICES_DAILY.cron, UPDATE_PRICES_DAILY.timezone, UPDATE_PRICES_DAILY.interval) == (
        "0 6 * * *",
        "America/Sao_Paulo",
        "daily",
    )


@pytest.mark.parametrize(
    ("fire", "expected"),
    [
        (
            utc(2024, 3, 10, 0, 0),
            date(2024, 3, 9),
        ),  # the midnight run processes 23:00-24:00 of the day before
        (utc(2024, 3, 10, 1, 0), date(2024, 3, 10)),
        (utc(2024, 3, 10, 23, 0), date(2024, 3, 10)),
        (utc(2025, 1, 1, 0, 0), date(2024, 12, 31)),  # year boundary
        (utc(2024, 3, 1, 0, 0), date(2024, 2, 29)),  # leap day
    ],
)
def test_hourly_utc_around_midnight(fire: datetime, expected: date) -> None:
    assert business_date(fire, PROCESS_PRODUCTS) == expected


def test_hourly_the_24_runs_of_a_day_are_01_00_to_next_midnight() -> None:
    fires = [utc(2024, 6, 15, 0) + timedelta(hours=h) for h in range(26)]  # 00:00 15th .. 01:00 16th
    dates = [business_date(f, PROCESS_PRODUCTS) for f in fires]
    assert dates == [date(2024, 6, 14)] + [date(2024, 6, 15)] * 24 + [date(2024, 6, 16)]


def test_hourly_off_boundary_times_use_the_last_complete_hour() -> None:
    # A manual run at 00:30 gets Airflow's interval 23:00-00:00 of the day before.
    assert business_date(utc(2024, 3, 10, 0, 30), PROCESS_PRODUCTS) == date(2024, 3, 9)
    assert business_date(utc(2024, 3, 10, 0, 59, 59, 999999), PROCESS_PRODUCTS) == date(2024, 3, 9)
    assert business_date(utc(2024, 3, 10, 1, 0, 0, 1), PROCESS_PRODUCTS) == date(2024, 3, 10)


@pytest.mark.parametrize(
    ("fire", "expected"),
    [
        (sp(2024, 3, 10, 6, 0), date(2024, 3, 9)),
        (utc(2024, 3, 10, 9, 0), date(2024, 3, 9)),  # the same instant given in UTC
        (sp(2025, 1, 1, 6, 0), date(2024, 12, 31)),
        (sp(2024, 3, 1, 6, 0), date(2024, 2, 29)),
    ],
)
def test_daily_sao_paulo_fire_times(fire: datetime, expected: date) -> None:
    assert business_date(fire, UPDATE_PRICES_DAILY) == expected


def test_daily_sao_paulo_uses_local_dates_not_utc_dates() -> None:
    # 23:30 in Sao Paulo is already the next day in UTC: the date comes from Sao Paulo's calendar.
    moment = sp(2024, 3, 10, 23, 30)
    assert moment.astimezone(UTC).date() == date(2024, 3, 11)
    assert business_date(moment, UPDATE_PRICES_DAILY) == date(
        2024, 3, 9
    )  # last complete: 06:00 9th - 06:00 10th
    # 02:00 UTC on the 11th is 23:00 on the 10th in Sao Paulo: same answer.
    assert business_date(utc(2024, 3, 11, 2, 0), UPDATE_PRICES_DAILY) == date(2024, 3, 9)


def test_daily_sao_paulo_just_before_and_after_the_fire_time() -> None:
    assert business_date(sp(2024, 3, 10, 5, 59, 59), UPDATE_PRICES_DAILY) == date(2024, 3, 8)
    assert business_date(sp(2024, 3, 10, 6, 0, 0), UPDATE_PRICES_DAILY) == date(2024, 3, 9)
    assert business_date(sp(2024, 3, 10, 6, 0, 1), UPDATE_PRICES_DAILY) == date(2024, 3, 9)


def test_sao_paulo_has_no_dst_now_so_06_00_is_always_09_00_utc() -> None:
    fires = [UPDATE_PRICES_DAILY.next_fire(sp(2024, 1, 1) + timedelta(days=d)) for d in range(366)]
    assert {f.astimezone(UTC).time().isoformat() for f in fires} == {"09:00:00"}
    assert all(business_date(f, UPDATE_PRICES_DAILY) == f.date() - timedelta(days=1) for f in fires)


@pytest.mark.parametrize(
    ("fire", "expected"),
    [
        (utc(2018, 11, 4, 8, 0), date(2018, 11, 3)),  # DST began at 00:00 that day: 06:00 was UTC-2
        (utc(2019, 2, 17, 9, 0), date(2019, 2, 16)),  # DST ended at 00:00 that day: 06:00 is UTC-3 again
    ],
)
def test_historical_sao_paulo_dst_days_keep_the_local_fire_hour(fire: datetime, expected: date) -> None:
    assert fire.astimezone(SAO_PAULO).hour == 6
    assert UPDATE_PRICES_DAILY.fire_at_or_before(fire) == fire
    assert business_date(fire, UPDATE_PRICES_DAILY) == expected


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        business_date(datetime(2024, 3, 10, 6, 0), UPDATE_PRICES_DAILY)
    with pytest.raises(ValueError, match="aware"):
        interval_start_date(datetime(2024, 3, 10, 6, 0), UPDATE_PRICES_DAILY)


# -- Airflow's side: interval start --------------------------------------------------------------------


def test_interval_start_date_matches_business_date_of_the_interval_end() -> None:
    for schedule, start in (
        (PROCESS_PRODUCTS, utc(2024, 3, 9, 23)),
        (UPDATE_PRICES_DAILY, sp(2024, 3, 9, 6)),
    ):
        end = schedule.next_fire(start)
        assert interval_start_date(start, schedule) == business_date(end, schedule) == start.date()


def test_interval_start_in_utc_is_read_in_the_schedule_zone() -> None:
    start = sp(2024, 3, 9, 6).astimezone(UTC)  # Airflow hands out UTC datetimes
    assert interval_start_date(start, UPDATE_PRICES_DAILY) == date(2024, 3, 9)


# -- explicit dates and resolution order ----------------------------------------------------------------


def test_explicit_business_date_wins() -> None:
    assert resolve_business_date(
        "2024-12-31", UPDATE_PRICES_DAILY, interval_start=sp(2024, 3, 9, 6), scheduled=sp(2024, 3, 10, 6)
    ) == date(2024, 12, 31)
    assert resolve_business_date(date(2024, 12, 31), PROCESS_PRODUCTS) == date(2024, 12, 31)


def test_resolution_order_interval_start_then_scheduled_time() -> None:
    assert resolve_business_date(
        None, UPDATE_PRICES_DAILY, interval_start=sp(2024, 3, 5, 6), scheduled=sp(2024, 3, 10, 6)
    ) == date(2024, 3, 5)
    assert resolve_business_date("", UPDATE_PRICES_DAILY, scheduled=sp(2024, 3, 10, 6)) == date(2024, 3, 9)
    with pytest.raises(ValueError, match="cannot resolve"):
        resolve_business_date(None, UPDATE_PRICES_DAILY)


@pytest.mark.parametrize("bad", ["2024-13-01", "31/12/2024", "20241231", "2024-12-31T00:00:00", "yesterday"])
def test_bad_explicit_dates_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_business_date(bad)


def test_datetime_is_not_a_business_date() -> None:
    with pytest.raises(ValueError, match="not a datetime"):
        parse_business_date(datetime(2024, 12, 31))  # type: ignore[arg-type]


# -- the cron subset -------------------------------------------------------------------------------------


def test_cron_parse_round_trip() -> None:
    assert CronSchedule.parse("0 6 * * *", "America/Sao_Paulo") == UPDATE_PRICES_DAILY
    assert CronSchedule.parse("0 * * * *") == PROCESS_PRODUCTS
    assert CronSchedule.parse("15 * * * *").cron == "15 * * * *"


@pytest.mark.parametrize(
    "cron", ["@hourly", "*/5 * * * *", "0 6 * * 1-5", "0 6,18 * * *", "0 24 * * *", "60 * * * *"]
)
def test_unsupported_crons_are_refused(cron: str) -> None:
    with pytest.raises(ValueError):
        CronSchedule.parse(cron)


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        CronSchedule(minute=0, hour=6, timezone="Mars/Olympus_Mons")


def test_hourly_schedule_at_a_minute_in_a_half_hour_zone() -> None:
    kolkata = CronSchedule(minute=15, hour=None, timezone="Asia/Kolkata")  # UTC+05:30
    # 00:15 IST on the 10th = 18:45 UTC on the 9th; the interval 23:15-00:15 IST starts on the 9th (IST).
    assert business_date(utc(2024, 3, 9, 18, 45), kolkata) == date(2024, 3, 9)
    assert business_date(utc(2024, 3, 9, 19, 45), kolkata) == date(2024, 3, 10)


# -- cross-check against Airflow's own timetable ---------------------------------------------------------

_AIRFLOW_SCRIPT = """
import json, sys
import pendulum
from airflow.timetables.interval import CronDataIntervalTimetable
out = []
for cron, tz, moment in json.loads(sys.stdin.read()):
    table = CronDataIntervalTimetable(cron, pendulum.timezone(tz))
    interval = table.infer_manual_data_interval(run_after=pendulum.parse(moment))
    out.append(interval.start.in_timezone(tz).date().isoformat())
print(json.dumps(out))
"""


@pytest.mark.integration
@pytest.mark.skipif(not AIRFLOW_PY.exists(), reason="needs .venv-airflow")
def test_same_dates_as_airflow_cron_data_interval_timetable() -> None:
    """Airflow (CronDataIntervalTimetable, as the legacy DAGs use) and business_date agree, on fire times
    and between them (a manual run's inferred interval), across midnight, DST-era and leap days."""
    moments = [utc(2024, 2, 28, 22) + timedelta(minutes=37 * i) for i in range(120)]
    moments += [utc(2018, 11, 3, 20) + timedelta(hours=i) for i in range(16)]
    moments += [utc(2019, 2, 16, 20) + timedelta(hours=i) for i in range(16)]
    moments += [sp(2024, 12, 31, 6), utc(2025, 1, 1, 0), sp(2024, 3, 10, 5, 59, 59)]
    cases = [(s.cron, s.timezone, m) for s in (PROCESS_PRODUCTS, UPDATE_PRICES_DAILY) for m in moments]
    payload = json.dumps([(cron, tz, m.isoformat()) for cron, tz, m in cases])
    proc = subprocess.run(
        [str(AIRFLOW_PY), "-c", _AIRFLOW_SCRIPT], input=payload, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    airflow_dates = json.loads(proc.stdout.strip().splitlines()[-1])
    schedules = {(s.cron, s.timezone): s for s in (PROCESS_PRODUCTS, UPDATE_PRICES_DAILY)}
    ours = [business_date(m, schedules[(cron, tz)]).isoformat() for cron, tz, m in cases]
    mismatches = [(c, a, o) for c, a, o in zip(cases, airflow_dates, ours, strict=False) if a != o]
    assert mismatches == []
