from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bridge import parity

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_same_cron_and_zone_is_equal() -> None:
    a = parity.fire_times("0 6 * * *", "America/Sao_Paulo", T0, 4)
    assert a[0] == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    result = parity.compare(
        "w", a, list(a), "0 6 * * *", "America/Sao_Paulo", "0 6 * * *", "America/Sao_Paulo"
    )
    assert result.equal


def test_timezone_offset_is_explained() -> None:
    a = parity.fire_times("0 6 * * *", "America/Sao_Paulo", T0, 4)
    p = parity.fire_times("0 6 * * *", "UTC", T0, 4)
    result = parity.compare("w", a, p, "0 6 * * *", "America/Sao_Paulo", "0 6 * * *", "UTC")
    assert result.verdict == "offset" and result.offset == timedelta(hours=3)
    assert result.explanation.startswith("timezone:")


def test_one_interval_offset_is_interval_end_versus_scheduled_time() -> None:
    p = parity.fire_times("0 * * * *", "UTC", T0, 5)
    a = [t + timedelta(hours=1) for t in p]
    result = parity.compare("w", a, p, "0 * * * *", "UTC", "0 * * * *", "UTC")
    assert result.verdict == "offset" and result.explanation.startswith("interval end versus scheduled time")


def test_different_periods_are_different() -> None:
    a = parity.fire_times("0 * * * *", "UTC", T0, 4)
    p = parity.fire_times("0 */2 * * *", "UTC", T0, 4)
    assert parity.compare("w", a, p, "0 * * * *", "UTC", "0 */2 * * *", "UTC").verdict == "different"


def test_airflow_zone_is_the_one_reproducing_its_next_run() -> None:
    run_after = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert parity.airflow_zone("0 6 * * *", run_after, ["UTC", "America/Sao_Paulo"]) == "America/Sao_Paulo"
    assert parity.airflow_zone("0 6 * * *", run_after, ["UTC"]) == "UTC-03:00"
    assert parity.airflow_zone("0 6 * * *", run_after.replace(minute=7), ["UTC"]) is None


def test_alignment_pairs_each_fire_time_with_the_nearest() -> None:
    a = parity.fire_times("0 6 * * *", "America/Sao_Paulo", T0, 3)
    p = parity.aligned("0 6 * * *", "UTC", a)
    assert [x - y for x, y in zip(a, p, strict=False)] == [timedelta(hours=3)] * 3
