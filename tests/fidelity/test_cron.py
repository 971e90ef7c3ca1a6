"""Scenario 1's cron jobs: ports with a wrong rounding, a wrong timezone, a filter that drops rows, a
swallowed rejection and an ordering bug in the high-water mark, each a mismatch naming what differs; the
shipped port against a primary holding a week of earlier runs, and a replay at a schedule instant, matches."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bridge.compare.model import MATCH, MISMATCH, json_value
from pipelines.common.business_date import business_date
from pipelines.common.workflows import workflow

DAY = "2024-12-31"
# 04:30 in Sao Paulo: after 06:00 UTC and before the 06:00 Sao Paulo (09:00 UTC) fire time, where reading
# the schedule in UTC instead of America/Sao_Paulo moves the business date by a day.
AT = datetime(2024, 12, 31, 7, 30, tzinfo=UTC)
AT_CLEAN = AT + timedelta(minutes=45)  # the same business date, another instant (another Airflow run)
PRICES = workflow("update_prices_daily").schedule
assert PRICES is not None


def keys(rows: Any) -> set[tuple[Any, ...]]:
    """Table keys as JSON-comparable tuples (dates as ISO text)."""
    return {tuple(json_value(list(k))) for k in rows}


def _week_of_history(case: Any, last: str = DAY) -> None:
    """The seven business dates before ``last`` written by the job itself into the case's primary target."""
    from pipelines.jobs.prices import update_prices

    end = date.fromisoformat(last)
    for back in range(7, 0, -1):
        update_prices(
            case.urls["BRIDGE_SOURCE_URL"],
            case.urls["BRIDGE_WAREHOUSE_URL"],
            case.primary,
            end - timedelta(days=back),
        )


def _history_then(port: str | None) -> Any:
    def scenario(case: Any, _: Any) -> Any:
        _week_of_history(case)
        return case.shadow("update_prices_daily", {"business_date": DAY}, port=port)

    return scenario


SCENARIOS = {
    "prices_rounding": lambda case, _: case.shadow(
        "update_prices_daily", {"business_date": DAY}, port="prices_rounding"
    ),
    "prices_utc_date": lambda case, _: case.shadow("update_prices_daily", {}, port="prices_utc_date", at=AT),
    "prices_at_replay": lambda case, _: case.shadow("update_prices_daily", {}, at=AT_CLEAN),
    "prices_week_of_history": _history_then(None),
    "prices_drop_uncategorized": _history_then("prices_drop_uncategorized"),
    "catalog_skip_rejected": lambda case, _: case.shadow(
        "process_products", {"business_date": DAY}, port="catalog_skip_rejected"
    ),
    "catalog_last_row_high_water": lambda case, _: case.shadow(
        "process_products", {"business_date": DAY}, port="catalog_last_row_high_water"
    ),
}


@pytest.mark.divergent("prices_rounding")
def test_wrong_rounding_changes_the_prices_it_rounds(ran: Any) -> None:
    from tests.fidelity.ports.prices_rounding import rounded_to_cent

    case, result = ran
    assert result.verdict == MISMATCH, case.explain(result)
    rows = case.sql(
        f"SELECT product_id, business_date, cost, margin_pct, discount_pct, price "
        f'FROM "{case.primary}".price_history'
    )
    expected = keys((pid, day) for pid, day, *rule, price in rows if rounded_to_cent(*rule) != price)
    prices = case.table(result, "price_history")
    assert prices.changed_count == len(expected) > 0, case.explain(result)
    assert prices.only_airflow_count == prices.only_prefect_count == 0, case.explain(result)
    assert keys(c.key for c in prices.changed) <= expected
    assert all(c.columns == ("price",) for c in prices.changed)
    case.difference(result, "result.checksum")


@pytest.mark.divergent("prices_utc_date")
def test_business_date_from_the_schedule_read_in_utc(ran: Any) -> None:
    """``--at`` with no business_date: Airflow derives the date from its data interval, the port from its
    own scheduled start, and the port reads the schedule in the wrong timezone."""
    airflow_day = business_date(AT, PRICES).isoformat()
    port_day = business_date(AT, dataclasses.replace(PRICES, timezone="UTC")).isoformat()
    assert (airflow_day, port_day) == ("2024-12-29", "2024-12-30")
    case, result = ran
    assert result.verdict == MISMATCH, case.explain(result)
    found = case.difference(result, "result.business_date")
    assert (found.airflow, found.prefect) == (airflow_day, port_day)
    prices = case.table(result, "price_history")
    written = result.primary.document["result"]["rows_written"]
    assert prices.only_airflow_count == prices.only_prefect_count == written > 0, case.explain(result)
    assert {k[1] for k in keys(prices.only_airflow)} == {airflow_day}
    assert {k[1] for k in keys(prices.only_prefect)} == {port_day}


@pytest.mark.control("prices_at_replay")
def test_a_replay_at_a_schedule_instant_matches_each_side_deriving_the_date(ran: Any) -> None:
    case, result = ran
    assert result.verdict == MATCH, case.explain(result)
    expected = business_date(AT_CLEAN, PRICES).isoformat()
    assert expected == business_date(AT, PRICES).isoformat()
    for side in result.sides():
        assert side.document is not None
        assert side.document["tasks"]["resolve_run"]["value"]["business_date"] == expected
        assert side.document["result"]["business_date"] == expected
    assert "business_date" not in result.conf


@pytest.mark.control("prices_week_of_history")
def test_a_correct_port_matches_against_a_primary_holding_a_week_of_runs(ran: Any) -> None:
    case, result = ran
    assert result.verdict == MATCH, case.explain(result)
    (days,) = case.sql(f'SELECT count(DISTINCT business_date) FROM "{case.primary}".price_history')
    assert days == (8,)


@pytest.mark.divergent("prices_drop_uncategorized")
def test_a_filter_that_drops_rows_is_caught_against_a_week_of_history(ran: Any) -> None:
    case, result = ran
    assert result.verdict == MISMATCH, case.explain(result)
    dropped = keys(
        case.sql(
            f'SELECT product_id, business_date FROM "{case.primary}".price_history '
            "WHERE business_date = %s AND category_id IS NULL",
            (DAY,),
        )
    )
    prices = case.table(result, "price_history")
    assert prices.only_airflow_count == len(dropped) > 0, case.explain(result)
    assert prices.only_prefect_count == prices.changed_count == 0, case.explain(result)
    assert keys(prices.only_airflow) <= dropped  # day 8's rows only: the week before is out of scope
    case.difference(result, "result.checksum")


@pytest.mark.divergent("catalog_skip_rejected")
def test_rejected_products_silently_skipped(ran: Any) -> None:
    case, result = ran
    assert result.verdict == MISMATCH, case.explain(result)
    rejected = keys(
        case.sql(f'SELECT product_id FROM "{case.primary}".processed_products WHERE NOT is_valid')
    )
    products = case.table(result, "processed_products")
    assert products.only_airflow_count == len(rejected) > 0, case.explain(result)
    assert keys(products.only_airflow) <= rejected
    assert products.only_prefect_count == products.changed_count == 0, case.explain(result)
    written = case.difference(result, "result.rows_written")
    assert written.airflow - written.prefect == len(rejected)


@pytest.mark.divergent("catalog_last_row_high_water")
def test_a_high_water_mark_taken_from_the_last_row_read(ran: Any) -> None:
    """The bug is in a state table no summary shows: only comparing ``etl_watermarks`` catches it."""
    case, result = ran
    assert result.verdict == MISMATCH, case.explain(result)
    marks = case.table(result, "etl_watermarks")
    assert marks.changed_count == 1 and marks.only_airflow_count == marks.only_prefect_count == 0
    (row,) = marks.changed
    assert keys([row.key]) == {("process_products", DAY)}
    assert row.columns == ("high_water",)
    assert case.table(result, "processed_products").equal
