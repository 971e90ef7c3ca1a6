"""Replay without services: instants read as UTC, a schedule's instants between two bounds, the schedule
read from Airflow's DAG details, the refusals (one line each), and the CLI's bad --at text."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bridge.errors import UsageError
from bridge.replay import (
    MAX_INSTANTS,
    Schedule,
    format_instant,
    instants,
    parse_instant,
    refuse_business_date,
    refuse_future,
    schedule_from_details,
)
from tests.helpers import REPO

PRICES = Schedule("update_prices_daily", "0 6 * * *", "America/Sao_Paulo")
ORDERS = Schedule("etl_orders", "15 * * * *", "UTC")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- instants as text ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,expected",
    [
        ("2024-12-31T08:30:00Z", utc(2024, 12, 31, 8, 30)),
        ("2024-12-31T08:30:00z", utc(2024, 12, 31, 8, 30)),
        ("2024-12-31T08:30:00", utc(2024, 12, 31, 8, 30)),  # naive means UTC
        ("2024-12-31 08:30", utc(2024, 12, 31, 8, 30)),
        ("2024-12-31T05:30:00-03:00", utc(2024, 12, 31, 8, 30)),
        ("2024-12-31", utc(2024, 12, 31)),
    ],
)
def test_an_instant_is_read_as_utc(text: str, expected: datetime) -> None:
    moment = parse_instant(text)
    assert moment == expected and moment.tzinfo == UTC


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01T00:00:00Z", "Z", "31/12/2024 08:30"])
def test_bad_instant_text_is_one_clear_usage_line(text: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_instant(text, "--from")
    message = str(err.value)
    assert message.startswith(f"--from {text!r} is not an ISO-8601 instant") and "\n" not in message
    assert "2024-12-31T08:30:00Z" in message and "UTC" in message


def test_format_instant_is_utc_with_z() -> None:
    assert format_instant(datetime(2024, 12, 31, 5, 30, tzinfo=timezone(timedelta(hours=-3)))) == (
        "2024-12-31T08:30:00Z"
    )


# -- a schedule's instants ----------------------------------------------------------------------------
def test_daily_sao_paulo_instants_are_06_00_local_and_bounds_are_inclusive() -> None:
    found = instants(PRICES, utc(2024, 12, 29, 9), utc(2024, 12, 31, 9))
    assert found == [utc(2024, 12, 29, 9), utc(2024, 12, 30, 9), utc(2024, 12, 31, 9)]


def test_instants_between_fire_times_are_none_and_a_bound_on_one_is_one() -> None:
    assert instants(PRICES, utc(2024, 12, 31, 0), utc(2024, 12, 31, 8, 59, 59)) == []
    assert instants(PRICES, utc(2024, 12, 31, 9), utc(2024, 12, 31, 9)) == [utc(2024, 12, 31, 9)]
    assert instants(PRICES, utc(2024, 12, 31, 9, 0, 1), utc(2025, 1, 1, 8)) == []


def test_hourly_instants_in_utc() -> None:
    found = instants(ORDERS, utc(2024, 12, 31, 0), utc(2024, 12, 31, 3))
    assert found == [utc(2024, 12, 31, h, 15) for h in range(3)]


def test_weekly_and_fixed_offset_schedules() -> None:
    weekly = Schedule("full_migration_weekly", "0 3 * * 0", "America/Sao_Paulo")
    assert instants(weekly, utc(2024, 12, 1), utc(2024, 12, 31)) == [
        utc(2024, 12, d, 6) for d in (1, 8, 15, 22, 29)
    ]
    fixed = Schedule("update_prices_daily", "0 6 * * *", "UTC-03:00")
    assert instants(fixed, utc(2024, 12, 29), utc(2024, 12, 31)) == [
        utc(2024, 12, 29, 9),
        utc(2024, 12, 30, 9),
    ]


def test_daily_instants_keep_local_time_across_dst() -> None:
    """New York moved its clocks on 2024-03-10: 06:00 local is 11:00Z before and 10:00Z after."""
    ny = Schedule("x", "0 6 * * *", "America/New_York")
    assert instants(ny, utc(2024, 3, 9), utc(2024, 3, 11, 12)) == [
        utc(2024, 3, 9, 11),
        utc(2024, 3, 10, 10),
        utc(2024, 3, 11, 10),
    ]


def test_end_before_start_is_refused() -> None:
    with pytest.raises(
        UsageError, match=r"^--to 2024-12-30T00:00:00Z is before --from 2024-12-31T00:00:00Z$"
    ):
        instants(PRICES, utc(2024, 12, 31), utc(2024, 12, 30))


def test_more_than_the_cap_is_refused_saying_how_to_narrow() -> None:
    assert len(instants(ORDERS, utc(2024, 12, 1), utc(2024, 12, 7, 23, 59))) == MAX_INSTANTS
    with pytest.raises(UsageError) as err:
        instants(ORDERS, utc(2024, 12, 1), utc(2024, 12, 31))
    message = str(err.value)
    assert f"more than {MAX_INSTANTS} instants of etl_orders" in message and "narrow --from/--to" in message
    assert "the first 168 end at 2024-12-07T23:15:00Z" in message and "\n" not in message


# -- the schedule from Airflow's DAG details ----------------------------------------------------------
def details(cron: str | None, run_after: str | None, timezone_name: str = "UTC") -> dict[str, object]:
    return {
        "timetable_summary": cron,
        "timetable_description": "At 06:00" if cron else "Never, external triggers only",
        "timetable_periodic": cron is not None,
        "timezone": timezone_name,
        "next_dagrun_run_after": run_after,
    }


def test_the_zone_is_the_one_reproducing_airflows_next_run() -> None:
    payload = details("0 6 * * *", "2026-12-02T09:00:00Z")  # the DAG's zone says UTC, its timetable not
    assert schedule_from_details("p", payload, ["America/Sao_Paulo"]) == Schedule(
        "p", "0 6 * * *", "America/Sao_Paulo"
    )
    assert schedule_from_details("p", payload).timezone == "UTC-03:00"  # no named hint: the fixed offset
    assert schedule_from_details("p", payload, ["Europe/Lisbon"]).timezone == "UTC-03:00"  # a wrong hint


def test_hourly_schedule_keeps_the_dags_zone() -> None:
    payload = details("15 * * * *", "2026-12-02T05:15:00Z")
    assert schedule_from_details("o", payload).timezone == "UTC"


def test_without_a_next_run_the_dags_zone_is_used() -> None:
    assert schedule_from_details("p", details("0 6 * * *", None, "Europe/Lisbon")).timezone == "Europe/Lisbon"


def test_an_unscheduled_workflow_is_refused_in_one_line() -> None:
    with pytest.raises(UsageError) as err:
        schedule_from_details("hello_bridge", details(None, None))
    assert str(err.value) == (
        "hello_bridge is not scheduled on Airflow (timetable: Never, external triggers only): it has no "
        "instants to replay; run it with `bridge trigger hello_bridge --shadow --conf ...`"
    )


def test_a_timetable_that_is_not_a_cron_is_refused() -> None:
    with pytest.raises(UsageError, match="is not a cron"):
        schedule_from_details("d", details("1 day, 0:00:00", "2026-12-02T00:00:00Z"))


# -- what a replayed run may not carry, and when ------------------------------------------------------
def test_a_conf_with_business_date_is_refused() -> None:
    refuse_business_date({"target": "x", "business_date": None})
    with pytest.raises(UsageError, match=r"drop business_date \('2024-12-31'\) from --conf"):
        refuse_business_date({"business_date": "2024-12-31"})


def test_an_instant_not_fired_yet_is_refused() -> None:
    now = utc(2026, 12, 2, 4)
    refuse_future(utc(2026, 12, 2, 4), now=now)
    with pytest.raises(UsageError, match=r"^--at 2026-12-02T04:00:01Z is in the future"):
        refuse_future(utc(2026, 12, 2, 4, 0, 1), now=now)


# -- the CLI: bad text is one line and exit 2, before any service is reached --------------------------
@pytest.mark.parametrize(
    "args,flag",
    [
        (["trigger", "update_prices_daily", "--shadow", "--at", "tomorrow"], "--at"),
        (["shadow-replay", "update_prices_daily", "--from", "2024-12-31", "--to", "noon"], "--to"),
    ],
)
def test_cli_bad_instant_is_one_line_and_exit_2(args: list[str], flag: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"bridge: {flag} ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
