"""Scoped comparisons on real PostgreSQL: only the rows a run wrote count, history never does; every table
of both targets is found by its primary key; the start state is copied; calibration fingerprints."""

from __future__ import annotations

from bridge.compare.outputs import Targets, compare_outputs, key_fingerprints, prepare
from bridge.compare.targets import copy_tables, take_marker
from bridge.config import ShadowSettings, TableOutput
from tests.integration.table_diff.helpers import pg_run

PRICES = (
    "CREATE TABLE {s}.prices (product_id INT, day DATE, price NUMERIC(10,2), PRIMARY KEY (product_id, day))"
)


def _history(url: str, schema: str, days: range, price: str = "1.00") -> None:
    pg_run(
        url,
        [
            f"CREATE SCHEMA IF NOT EXISTS {schema}",
            PRICES.format(s=schema),
            f"INSERT INTO {schema}.prices SELECT p, DATE '2024-12-01' + d, {price}"
            f" FROM generate_series(1, 50) p, unnest(ARRAY{list(days) or [0]}::int[]) d"
            + (" WHERE false" if not days else ""),
        ],
    )


def _run_day(url: str, schema: str, day: int, price: str = "2.00", skip: int = 0) -> None:
    """What one run writes: the day's 50 prices (less ``skip`` of them: a wrong filter)."""
    pg_run(
        url,
        [
            f"DELETE FROM {schema}.prices WHERE day = DATE '2024-12-01' + {day}",
            f"INSERT INTO {schema}.prices SELECT p, DATE '2024-12-01' + {day}, {price}"
            f" FROM generate_series(1 + {skip}, 50) p",
        ],
    )


def _targets(url: str, primary: str, shadow: str) -> Targets:
    return Targets(primary, shadow, url, {url: take_marker(url)})


def test_history_outside_the_run_never_counts(pg: str) -> None:
    _history(pg, "sc_hist_af", range(7))  # a week of earlier runs in the primary only
    _history(pg, "sc_hist_pf", range(0))
    t = _targets(pg, "sc_hist_af", "sc_hist_pf")
    _run_day(pg, "sc_hist_af", 7)
    _run_day(pg, "sc_hist_pf", 7)
    (prices,) = compare_outputs(ShadowSettings(), t, {})
    assert prices.equal and prices.scope.startswith("rows written in this run"), prices.to_dict()
    assert prices.airflow_rows == prices.prefect_rows == 50
    # the same week, a port with a wrong filter: the rows it skipped are named
    t = _targets(pg, "sc_hist_af", "sc_hist_pf")
    _run_day(pg, "sc_hist_af", 8)
    _run_day(pg, "sc_hist_pf", 8, skip=3)
    (prices,) = compare_outputs(ShadowSettings(), t, {})
    assert not prices.equal and prices.only_airflow_count == 3 and prices.only_prefect_count == 0
    assert [list(k) for k in prices.only_airflow] == [[1, _day(8)], [2, _day(8)], [3, _day(8)]]


def _day(n: int) -> object:
    from datetime import date, timedelta

    return date(2024, 12, 1) + timedelta(days=n)


def test_a_key_written_on_one_side_is_looked_up_on_the_other(pg: str) -> None:
    _history(pg, "sc_look_af", range(2))
    _history(pg, "sc_look_pf", range(2))
    t = _targets(pg, "sc_look_af", "sc_look_pf")
    pg_run(
        pg, ["UPDATE sc_look_af.prices SET price = price WHERE product_id = 1 AND day = DATE '2024-12-01'"]
    )
    pg_run(pg, ["UPDATE sc_look_af.prices SET price = 9 WHERE product_id = 2 AND day = DATE '2024-12-01'"])
    (prices,) = compare_outputs(ShadowSettings(), t, {})
    # product 1 was rewritten unchanged (same state on both sides); product 2 differs from the shadow's row
    assert prices.changed_count == 1 and prices.only_airflow_count == 0, prices.to_dict()
    assert [list(c.key) for c in prices.changed] == [[2, _day(0)]]
    assert prices.changed[0].columns == ("price",)


def test_every_table_is_found_and_one_side_only_is_a_difference(pg: str) -> None:
    _history(pg, "sc_disc_af", range(1))
    _history(pg, "sc_disc_pf", range(1))
    pg_run(
        pg,
        [
            "CREATE TABLE sc_disc_af.untouched (id INT PRIMARY KEY)",
            "INSERT INTO sc_disc_af.untouched VALUES (1)",
        ],
    )
    t = _targets(pg, "sc_disc_af", "sc_disc_pf")
    _run_day(pg, "sc_disc_af", 1)
    _run_day(pg, "sc_disc_pf", 1)
    pg_run(
        pg,
        [
            "CREATE TABLE sc_disc_pf.products_backup (id INT PRIMARY KEY)",
            "INSERT INTO sc_disc_pf.products_backup VALUES (1), (2)",
            "CREATE TABLE sc_disc_pf.log (msg TEXT)",  # no primary key
            "INSERT INTO sc_disc_pf.log VALUES ('x')",
        ],
    )
    diffs = {d.table: d for d in compare_outputs(ShadowSettings(), t, {})}
    assert set(diffs) == {"prices", "products_backup", "log"}  # `untouched` was not written in this run
    assert diffs["prices"].equal
    assert diffs["products_backup"].present == "prefect" and diffs["products_backup"].prefect_rows == 2
    assert not diffs["products_backup"].equal
    assert not diffs["log"].equal
    excluded = ShadowSettings(tables=(TableOutput("log", exclude="free-text log of the port"),))
    diffs = {d.table: d for d in compare_outputs(excluded, t, {})}
    assert diffs["log"].equal and diffs["log"].excluded == "free-text log of the port"


def test_a_declared_scope_replaces_the_default(pg: str) -> None:
    _history(pg, "sc_decl_af", range(3))
    _history(pg, "sc_decl_pf", range(3), price="5.00")  # different history: outside the scope
    t = Targets("sc_decl_af", "sc_decl_pf", pg, {})
    pg_run(pg, ["UPDATE sc_decl_pf.prices SET price = 1.00 WHERE day = DATE '2024-12-03'"])
    scoped = ShadowSettings(tables=(TableOutput("prices", scope="day = {business_date}"),))
    (prices,) = compare_outputs(scoped, t, {"business_date": "2024-12-03"})
    assert prices.equal and prices.scope == "day = {business_date}" and prices.airflow_rows == 50
    (whole,) = compare_outputs(
        ShadowSettings(tables=(TableOutput("prices", scope="day < {business_date}"),)),
        t,
        {"business_date": "2024-12-03"},
    )
    assert whole.changed_count == 100


def test_the_start_state_is_copied_and_fingerprints_follow_the_written_keys(pg: str) -> None:
    pg_run(
        pg,
        [
            "CREATE SCHEMA sc_state_af",
            "CREATE TABLE sc_state_af.etl_state (table_name TEXT PRIMARY KEY, watermark TIMESTAMP)",
            "INSERT INTO sc_state_af.etl_state VALUES ('orders', '2024-12-31 18:54:42')",
        ],
    )
    settings = ShadowSettings(start_from_primary=("etl_state", "missing_table"))
    markers = prepare(settings, "sc_state_af", ["sc_state_pf"], pg)
    with_state = copy_tables(pg, "sc_state_af", "sc_state_pf", ["etl_state"])
    assert with_state == ["etl_state"]
    from pipelines.adapters import db

    with db.warehouse_connection(pg) as conn:
        assert conn.execute("SELECT watermark::text FROM sc_state_pf.etl_state").fetchall() == [
            ("2024-12-31 18:54:42",)
        ]
    pg_run(pg, ["UPDATE sc_state_pf.etl_state SET watermark = '2025-01-01'"])
    prints = key_fingerprints(settings, pg, "sc_state_pf", markers[pg])
    assert set(prints) == {"etl_state"} and prints["etl_state"][0] == 1
