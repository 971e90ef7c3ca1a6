"""Scenario 3's loader core without services: format conversions, result framing, generated SQL, schedules."""

from __future__ import annotations

import os
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest

from devkit.catalog_seed import DEFAULT_ANCHOR
from devkit.etl_generate import generate_orders, generate_products, order_total, tsv_field
from pipelines.adapters import mysql_extract as etl_extract
from pipelines.adapters.load_sql import merge_children_sql, merge_sql, swap_sql
from pipelines.adapters.loader import LoadConfig, to_pg_copy
from pipelines.adapters.mysql_extract import MARKER, ExtractConfig, Extraction, split_result
from pipelines.common.business_date import business_date
from pipelines.common.schedules import WeeklySchedule
from pipelines.common.workflows import workflow
from pipelines.errors import ExtractError
from pipelines.etl.tables import ORDER_ITEMS, ORDERS, PRODUCTS, Column, EtlTable, mysql_datetime_literal

SOURCE = "mysql+pymysql://root@127.0.0.1:3306/unit_never_connected"

ETL_PRODUCTS = workflow("etl_products").schedule
ETL_ORDERS = workflow("etl_orders").schedule
FULL_MIGRATION_WEEKLY = workflow("full_migration_weekly").schedule


# -- MySQL batch format -> PostgreSQL COPY text ----------------------------------------------------------


def test_pg_copy_keeps_the_shared_escapes_and_escapes_carriage_returns() -> None:
    row = b"1\ttab\\there\tline\\nbreak\tback\\\\slash\twin\r\nend\n"
    assert to_pg_copy(row) == b"1\ttab\\there\tline\\nbreak\tback\\\\slash\twin\\r\nend\n"


def test_the_string_null_is_a_string_and_only_a_whole_marked_field_is_rewritten() -> None:
    rows = b"NULL\\0\tNULL\\0\tNULL\n2\txNULL\\0\tNULL\\0y\tNULL\\0\n"
    assert to_pg_copy(rows) == b"\\x4eULL\t\\x4eULL\tNULL\n2\txNULL\\0\tNULL\\0y\t\\x4eULL\n"


def test_a_real_nul_is_left_for_postgresql_to_refuse() -> None:
    assert to_pg_copy(b"1\ta\\0b\n") == b"1\ta\\0b\n"


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, b"NULL"),
        (b"plain", b"plain"),
        (b"a\tb", b"a\\tb"),
        (b"a\nb", b"a\\nb"),
        (b"a\\b", b"a\\\\b"),
        (b"a\0b", b"a\\0b"),
        (b"a\rb", b"a\rb"),
        ("ção 😀".encode(), "ção 😀".encode()),
    ],
)
def test_the_pymysql_reader_escapes_like_the_mariadb_client(value: bytes | None, expected: bytes) -> None:
    assert etl_extract._escape(value) == expected


# -- framing of several results in one stream ---------------------------------------------------------------


def test_split_result_finds_only_whole_marker_lines() -> None:
    assert split_result(b"1\ta\n" + MARKER + b"\n2\tb\n") == (b"1\ta\n", b"2\tb\n")
    assert split_result(MARKER + b"\n") == (b"", b"")
    assert split_result(b"1\t" + MARKER + b"\n") == (b"1\t" + MARKER + b"\n", None)


def _feed(pieces: list[bytes]) -> int:
    read, write = os.pipe()

    def writer() -> None:
        for piece in pieces:
            os.write(write, piece)
        os.close(write)

    threading.Thread(target=writer, daemon=True).start()
    return read


def _framed(pieces: list[bytes], chunk_bytes: int = 8) -> list[list[bytes]]:
    extraction = Extraction(SOURCE, ["q0", "q1"], ExtractConfig("pymysql", chunk_bytes))
    extraction._stream = extraction._frame(_feed(pieces))
    return [list(extraction.result(0)), list(extraction.result(1))]


def test_results_are_split_at_their_markers_even_across_reads() -> None:
    stream = b"1\ta\n2\tb\n" + MARKER + b"\n3\tc\n" + MARKER + b"\n"
    for cut in range(1, len(stream)):
        results = _framed([stream[:cut], stream[cut:]])
        assert [b"".join(r) for r in results] == [b"1\ta\n2\tb\n", b"3\tc\n"], cut
        assert all(chunk.endswith(b"\n") for r in results for chunk in r)


def test_a_stream_cut_inside_a_result_is_an_error_not_a_short_load() -> None:
    with pytest.raises(ExtractError, match="ended inside result 1"):
        _framed([b"1\ta\n" + MARKER + b"\n3\tc\n4\t"])


def test_results_are_read_in_order() -> None:
    extraction = Extraction(SOURCE, ["q0", "q1"], ExtractConfig("pymysql"))
    extraction._stream = iter(())
    with pytest.raises(RuntimeError, match="in order"):
        next(extraction.result(1))


def test_the_client_gets_no_password_on_its_command_line() -> None:
    extraction = Extraction(
        "mysql://etl:s3cret@db.example:3307/shop", ["SELECT 1, 2"], ExtractConfig("pymysql")
    )
    if etl_extract.client_binary() is None:
        pytest.skip("no mariadb/mysql client on PATH")
    argv = extraction.client_argv()
    assert not any("s3cret" in a for a in argv)
    assert "--no-defaults" in argv and "--quick" in argv and "--batch" in argv
    assert "--host=db.example" in argv and "--port=3307" in argv and "--database=shop" in argv
    script = argv[-1]
    assert "START TRANSACTION WITH CONSISTENT SNAPSHOT" in script and "time_zone = '+00:00'" in script
    assert script.count(MARKER.decode()) == 1


def test_reader_config_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_ETL_READER", "odbc")
    with pytest.raises(ValueError, match="BRIDGE_ETL_READER"):
        ExtractConfig.from_env()
    monkeypatch.setenv("BRIDGE_ETL_READER", "pymysql")
    monkeypatch.setenv("BRIDGE_ETL_CHUNK_BYTES", "4096")
    assert ExtractConfig.from_env() == ExtractConfig("pymysql", 4096)


# -- the SQL read from MySQL and run in the warehouse ----------------------------------------------------------


def test_each_kind_is_selected_so_it_survives_the_text_protocol() -> None:
    assert Column("a", "int", "INTEGER").select_expr("t") == "t.`a`"
    text = Column("a", "text", "VARCHAR(10)").select_expr("t")
    assert "CAST(t.`a` AS BINARY) = 'NULL'" in text and "CHAR(0)" in text
    assert Column("a", "bool", "BOOLEAN").select_expr() == "(`a` <> 0)"
    assert Column("a", "timestamp", "TIMESTAMPTZ").select_expr() == "CONCAT(`a`, '+00:00')"
    with pytest.raises(ValueError):
        Column("a", "float", "REAL")
    with pytest.raises(ValueError):
        EtlTable("one", (Column("a", "int", "INTEGER"),), key=("a",))


def test_datetime_literals_are_digits_only() -> None:
    assert mysql_datetime_literal(datetime(2025, 1, 2, 3, 4, 5, 6)) == "'2025-01-02 03:04:05.000006'"
    with pytest.raises(ValueError):
        mysql_datetime_literal(datetime(2025, 1, 1, tzinfo=UTC))


def test_merge_keeps_the_newest_version() -> None:
    delete, insert = (s.as_string() for s in merge_sql("t1", ORDERS))
    assert delete == (
        'DELETE FROM "t1"."orders" USING "_stage_orders" s WHERE "orders"."id" = "s"."id" '
        'AND "orders"."updated_at" <= "s"."updated_at"'
    )
    assert insert.startswith('INSERT INTO "t1"."orders" ("id", ')
    assert insert.endswith(
        'FROM "_stage_orders" s WHERE NOT EXISTS (SELECT 1 FROM "t1"."orders" o WHERE "o"."id" = "s"."id")'
    )


def test_children_follow_the_parent_versions_the_merge_took() -> None:
    delete, insert = (s.as_string() for s in merge_children_sql("t1", ORDERS, ORDER_ITEMS, "order_id"))
    taken = '"p"."id" = "s"."id" AND "p"."updated_at" = "s"."updated_at"'
    assert delete.endswith(f'WHERE "order_items"."order_id" = "s"."id" AND {taken}')
    assert insert.endswith(f'JOIN "t1"."orders" p ON {taken}')


def test_swap_is_keyed_and_renamed_and_redshift_skips_what_it_lacks() -> None:
    pg = [s.as_string() for s in swap_sql("t1", PRODUCTS, "postgresql")]
    assert pg == [
        'ALTER TABLE "t1"."products__swap" ADD CONSTRAINT "products__swap_pkey" PRIMARY KEY ("id")',
        'DROP TABLE IF EXISTS "t1"."products"',
        'ALTER TABLE "t1"."products__swap" RENAME TO "products"',
        'ALTER TABLE "t1"."products" RENAME CONSTRAINT "products__swap_pkey" TO "products_pkey"',
    ]
    assert [s.as_string() for s in swap_sql("t1", PRODUCTS, "redshift")] == pg[1:3]


def test_staging_is_chosen_by_url_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIDGE_ETL_STAGING", raising=False)
    assert LoadConfig.from_env("postgresql://u@h/db").staging == "copy"
    monkeypatch.setenv("BRIDGE_ETL_S3_BUCKET", "stage-bucket")
    config = LoadConfig.from_env("redshift://u@cluster.example:5439/dev")
    assert (config.staging, config.dialect, config.s3.bucket) == ("s3", "redshift", "stage-bucket")
    monkeypatch.setenv("BRIDGE_ETL_STAGING", "copy")
    assert LoadConfig.from_env("redshift://u@cluster.example:5439/dev").staging == "copy"
    monkeypatch.setenv("BRIDGE_ETL_STAGING", "ftp")
    with pytest.raises(ValueError, match="BRIDGE_ETL_STAGING"):
        LoadConfig.from_env("postgresql://u@h/db")


# -- schedules ---------------------------------------------------------------------------------------------------


def test_the_weekly_schedule_fires_on_sundays_at_three_in_sao_paulo() -> None:
    from croniter import croniter

    schedule = FULL_MIGRATION_WEEKLY
    assert (schedule.cron, schedule.timezone, schedule.interval) == (
        "0 3 * * 0",
        "America/Sao_Paulo",
        "weekly",
    )
    moment = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)  # a Wednesday
    fire = schedule.fire_at_or_before(moment)
    assert (fire.isoweekday(), fire.hour, fire.minute) == (7, 3, 0)
    assert fire.astimezone(UTC) == datetime(2025, 3, 2, 6, 0, tzinfo=UTC)
    assert schedule.fire_at_or_before(fire) == fire
    assert schedule.previous_fire(fire) == fire - timedelta(days=7)
    assert schedule.next_fire(fire) == fire + timedelta(days=7)
    it = croniter(schedule.cron, moment.astimezone(schedule.zone))
    for _ in range(60):  # a year, through any clock change
        expected = it.get_next(datetime)
        assert schedule.next_fire(expected - timedelta(seconds=1)) == expected


def test_a_weekly_run_processes_the_week_that_ended() -> None:
    fire = datetime(2025, 3, 9, 6, 0, tzinfo=UTC)  # Sunday 03:00 in Sao Paulo
    assert business_date(fire, FULL_MIGRATION_WEEKLY).isoformat() == "2025-03-02"
    assert business_date(fire + timedelta(days=3), FULL_MIGRATION_WEEKLY).isoformat() == "2025-03-02"
    with pytest.raises(ValueError):
        WeeklySchedule(minute=0, hour=None, timezone="UTC", weekday=0)
    assert (ETL_PRODUCTS.cron, ETL_ORDERS.cron) == ("0 2 * * *", "15 * * * *")


# -- the generator --------------------------------------------------------------------------------------------


def test_generated_rows_are_deterministic_and_awkward() -> None:
    first = list(generate_products(500, random.Random("7:products"), DEFAULT_ANCHOR))
    assert first == list(generate_products(500, random.Random("7:products"), DEFAULT_ANCHOR))
    assert first != list(generate_products(500, random.Random("8:products"), DEFAULT_ANCHOR))
    descriptions = [row[8] for row in first]
    assert None in descriptions and "" in descriptions
    assert any(d and "\t" in d for d in descriptions) and any(d and "\\" in d for d in descriptions)
    assert all(row[7] < DEFAULT_ANCHOR for row in first)


def test_orders_are_spread_in_time_and_totals_add_up() -> None:
    orders = list(generate_orders(300, 50, random.Random(3), DEFAULT_ANCHOR))
    updated = [order[9] for order, _ in orders]
    assert len(set(updated)) == len(updated)  # no two orders share an updated_at
    assert all(order[7] <= order[9] < DEFAULT_ANCHOR for order, _ in orders)
    items = [(1, 1, 1, 2, "10.00", "10.00", None), (1, 2, 1, 1, "0.99", None, None)]
    assert order_total(items) == "18.99"


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, "\\N"),
        ("a\tb\nc\rd\\e", "a\\tb\\nc\\rd\\\\e"),
        ("NULL", "NULL"),
        (12, "12"),
        (datetime(2025, 1, 1, 0, 0, 0, 5), "2025-01-01 00:00:00.000005"),
    ],
)
def test_load_data_fields(value: object, expected: str) -> None:
    assert tsv_field(value) == expected
