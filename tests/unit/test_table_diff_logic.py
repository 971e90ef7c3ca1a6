"""The table diff's pure logic: bucket planning, key ranges, merging per-bucket sums, matching rows,
and the SQL each dialect generates (no database needed)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest

from bridge.compare import buckets as planning
from bridge.compare import connections, dialects, plans, tables
from bridge.compare.buckets import (
    BucketDiff,
    add_sums,
    bucket_range,
    columns_differing,
    differing,
    first_keys,
    match_rows,
    merge_ranges,
    next_pow2,
    plan_width,
    prefix_digits,
    trunc_div,
)
from bridge.compare.connections import Connection
from bridge.compare.dialects import Column, MySQL, Postgres, Redshift, element_kind
from bridge.compare.model import TableSide
from bridge.errors import DatabaseError, DatabaseUnavailableError, UsageError

# -- bucket planning ------------------------------------------------------------------------------


def test_next_pow2() -> None:
    assert [next_pow2(n) for n in (0, 1, 2, 3, 4, 5, 255, 256, 257)] == [1, 1, 2, 4, 4, 8, 256, 256, 512]


def test_width_gives_about_256_rows_per_bucket() -> None:
    assert plan_width(1, 1_000_000, 1_000_000) == 256  # dense: 3907 buckets of 256
    assert plan_width(1, 10**12, 1_000_000) == 2**28  # sparse: ~3725 buckets of ~268 rows
    assert plan_width(1, 1000, 1000) == 256  # small: 4 buckets
    assert plan_width(5, 5, 1) == 1
    assert plan_width(None, None, 0) == 1  # empty table


def test_width_without_statistics_assumes_dense_keys_and_caps_the_buckets() -> None:
    assert plan_width(1, 1_000_000, None) == plan_width(1, 1_000_000, -1) == 256
    width = plan_width(0, 10**12, 0)
    assert (10**12 // width) <= planning.MAX_BUCKETS


@pytest.mark.parametrize("lo,hi,rows", [(1, 1_000_000, 1_000_000), (-500, 70_000, 30_000), (0, 2**40, 5_000)])
def test_width_is_a_power_of_two_and_bucket_count_is_bounded(lo: int, hi: int, rows: int) -> None:
    width = plan_width(lo, hi, rows)
    assert width & (width - 1) == 0
    buckets = (hi - lo) // width + 2
    assert buckets <= min(planning.MAX_BUCKETS, rows) + 2
    assert buckets >= min(planning.MAX_BUCKETS, rows // planning.ROWS_PER_BUCKET) // 2


def test_integer_division_truncates_toward_zero_like_sql() -> None:
    assert [trunc_div(k, 2) for k in (-5, -4, -1, 0, 1, 5)] == [-2, -2, 0, 0, 0, 2]


@pytest.mark.parametrize("width", [1, 2, 4, 16, 64])
def test_bucket_range_holds_exactly_the_keys_of_its_bucket(width: int) -> None:
    for bucket in range(-6, 7):
        lo, hi = bucket_range(bucket, width)  # type: ignore[misc]
        members = [k for k in range(-500, 501) if trunc_div(k, width) == bucket]
        assert members == list(range(lo, hi + 1))
    assert bucket_range(None, 8) is None


def test_sub_buckets_nest_in_their_bucket() -> None:
    """Bisection splits a bucket of width w into buckets of width w >> 4 that never cross its edges."""
    for width in (16, 256, 4096):
        small = width >> tables.SPLIT_BITS
        for k in range(-3 * width, 3 * width, 7):
            assert trunc_div(trunc_div(k, small), width // small) == trunc_div(k, width)


def test_merge_ranges() -> None:
    assert merge_ranges([(10, 19), (0, 9), (30, 39), (35, 50), None, (60, 60)]) == [
        None,
        (0, 19),
        (30, 50),
        (60, 60),
    ]
    assert merge_ranges([]) == []


def test_prefix_digits_for_hash_buckets() -> None:
    assert [prefix_digits(n) for n in (None, -1, 0, 100, 4096, 5000, 1_000_000, 10**9)] == [
        3,
        3,
        3,
        1,
        1,
        2,
        3,
        4,
    ]


# -- merging per-bucket results -------------------------------------------------------------------


def test_add_sums_folds_chunks_and_decimal_sums() -> None:
    sums = add_sums({}, [(1, 2, Decimal("5")), (2, 1, Decimal("-9"))])
    add_sums(sums, [(1, 1, 3), (3, 0, None)])
    assert sums == {1: (3, 8), 2: (1, -9), 3: (0, 0)}


def test_differing_buckets() -> None:
    a = {0: (256, 11), 1: (256, 12), 2: (10, 5), None: (1, 1)}
    p = {0: (256, 11), 1: (256, 13), 3: (4, 4), None: (1, 1)}
    assert differing(a, p) == [
        BucketDiff(1, (256, 12), (256, 13)),
        BucketDiff(2, (10, 5), (0, 0)),
        BucketDiff(3, (0, 0), (4, 4)),
    ]
    assert differing(a, dict(a)) == []
    assert [d.bucket for d in differing({"f3": (1, 1), "0a": (1, 1)}, {})] == ["0a", "f3"]
    assert differing({None: (1, 2)}, {})[0].bucket is None


def test_found_files_one_sided_buckets_without_fetching() -> None:
    found = tables._Found()
    assert found.sort(BucketDiff(1, (5, 9), (0, 0)), (256, 511))
    assert found.sort(BucketDiff(2, (0, 0), (3, 4)), (512, 767))
    assert not found.sort(BucketDiff(3, (5, 9), (5, 8)), (768, 1023))
    assert (found.only_airflow, found.only_airflow_count) == ([(256, 511)], 5)
    assert (found.only_prefect, found.only_prefect_count) == ([(512, 767)], 3)


def test_match_rows() -> None:
    a = {"1": ((1,), 10), "2": ((2,), 20), "3": ((3,), 30)}
    p = {"2": ((2,), 20), "3": ((3,), 31), "4": ((4,), 40)}
    m = match_rows(a, p)
    assert m.only_airflow == {"1": (1,)} and m.only_prefect == {"4": (4,)}
    assert m.changed == {"3": ((3,), (3,))}


def test_first_keys_orders_by_value_or_by_text() -> None:
    assert first_keys([(10,), (9,), (100,)], 2) == [(9,), (10,)]
    assert first_keys([(2, date(2024, 1, 2)), (2, date(2024, 1, 1))], 5) == [
        (2, date(2024, 1, 1)),
        (2, date(2024, 1, 2)),
    ]
    assert first_keys([(None,), (1,)], 1) == [(1,)]  # cannot order None and 1: by text, "1" < "None"
    assert first_keys([(1,)], 0) == []


def test_columns_differing() -> None:
    assert columns_differing(["a", "b", "c"], ["1", "~", "0:"], ["1", "0:", "0:"]) == ("b",)


# -- canonical SQL --------------------------------------------------------------------------------


def test_element_kind() -> None:
    assert element_kind("int", "decimal") == "number"
    assert element_kind("decimal", "float") == "float"
    assert element_kind("bool", "int") == "number"
    assert element_kind("text", "int") == "text"
    assert element_kind("timestamp", "timestamptz") == "plain"
    assert element_kind("date", "date") == "plain"


def test_quoting_escapes_identifiers() -> None:
    assert Postgres().table('we"ird', "t") == '"we""ird"."t"'
    assert MySQL().table("db", "t`x") == "`db`.`t``x`"


def test_text_elements_are_length_prefixed_and_null_is_a_marker() -> None:
    col = Column("name", "text", dialects.TEXT)
    pg, my = Postgres().element(col, "text"), MySQL().element(col, "text")
    assert pg == """COALESCE(CHAR_LENGTH(("name")::text) || ':' || ("name")::text, '~')"""
    assert my.startswith(
        "COALESCE(CONCAT(CHAR_LENGTH(CONVERT(`name` USING utf8mb4) COLLATE utf8mb4_bin), ':'"
    )
    num = Column("price", "numeric", dialects.DECIMAL)
    assert Postgres().element(num, "number") == """COALESCE(trim_scale(("price")::numeric)::text, '~')"""
    assert "CHAR_LENGTH" not in MySQL().element(num, "number")


def test_mysql_percent_signs_are_doubled_for_the_driver() -> None:
    sql = MySQL().element(Column("ts", "datetime", dialects.TIMESTAMP), "plain")
    assert "'%%Y-%%m-%%d %%H:%%i:%%s.%%f'" in sql
    assert "%%" in Redshift().canonical('"p"', dialects.DECIMAL, "number")


def test_rows_hash_to_signed_64_bits_in_every_dialect() -> None:
    assert Postgres().row_hash("t") == "('x' || substr(md5(t), 1, 16))::bit(64)::bigint"
    assert "AS SIGNED" in MySQL().row_hash("t")
    assert "18446744073709551616" in Redshift().row_hash("t")


def test_categories() -> None:
    pg, my = Postgres(), MySQL()
    assert [
        pg.category(t, t)
        for t in (
            "bigint",
            "numeric",
            "double precision",
            "boolean",
            "timestamp with time zone",
            "character varying",
            "uuid",
            "bytea",
        )
    ] == ["int", "decimal", "float", "bool", "timestamptz", "text", "text", "bytes"]
    assert [
        my.category(t, t)
        for t in ("tinyint", "decimal", "double", "datetime", "timestamp", "varchar", "varbinary", "json")
    ] == ["int", "decimal", "float", "timestamp", "timestamptz", "text", "bytes", "text"]


def _plan(dialect: dialects.Dialect) -> plans.Plan:
    conn = Connection(None, dialect, "airflow", "postgresql://u:***@h:5432/d", None)
    key = (Column("id", "bigint", dialects.INT),)
    return plans.make_plan(conn, TableSide("x", "s", "t"), key, (), ["number"], [])


def test_int_selection_merges_ranges_and_chunks_the_where(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan(MySQL())
    assert plans.IntBuckets.where(plan, [(0, 9), (10, 19), None]) == [
        ("(`id` IS NULL OR `id` BETWEEN 0 AND 19)", ())
    ]
    monkeypatch.setattr(plans, "RANGES_PER_QUERY", 2)
    assert len(plans.IntBuckets.where(plan, [(0, 1), (5, 6), (9, 9)])) == 2
    assert plans.IntBuckets.where(plan, []) == []
    # PostgreSQL: the merged ranges as two arrays, one fenced index scan per range (LATERAL), NULL apart
    null, (join, (los, his)) = plans.IntBuckets.where(_plan(Postgres()), [(0, 9), (10, 19), None, (30, 39)])
    assert null == ('"id" IS NULL', ()) and "CROSS JOIN LATERAL" in join and "OFFSET 0" in join
    assert (los, his) == ([0, 30], [19, 39])
    assert plans.IntBuckets.where(_plan(Postgres()), []) == []


def test_hash_selection_lists_prefixes_or_takes_everything_when_allowed() -> None:
    plan, buckets = _plan(MySQL()), plans.HashBuckets(1)
    [(cond, params)] = buckets.where(plan, ["a", "b"])
    assert cond.endswith("IN (%s, %s)") and params == ("a", "b")
    many = [f"{i:x}" for i in range(10)]
    assert buckets.where(plan, many, superset=True) == [("1 = 1", ())]
    assert buckets.where(plan, many)[0][1] == tuple(many)  # a key sample must not take equal buckets


# -- boundary -------------------------------------------------------------------------------------


def test_errors_name_the_side_and_hide_the_password() -> None:
    conn = Connection(None, Postgres(), "prefect", "postgresql://etl:***@db:5432/wh", "hunter22")
    lost = conn.translate(psycopg.OperationalError("password hunter22 rejected\nmore"), "cannot connect")
    assert isinstance(lost, DatabaseUnavailableError)
    assert (
        str(lost) == "prefect database postgresql://etl:***@db:5432/wh: cannot connect: password *** rejected"
    )
    other = conn.translate(psycopg.errors.UndefinedFunction("no trim_scale"), "query failed")
    assert type(other) is DatabaseError


def test_an_unknown_url_scheme_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="sqlite"):
        connections.connect("sqlite:///x.db", "airflow")


def test_bad_declarations_fail_before_connecting() -> None:
    side = TableSide("postgresql://nobody@127.0.0.1:1/x", "s", "t")
    with pytest.raises(UsageError, match="distinct key columns"):
        tables.diff_tables(side, side, [])
    with pytest.raises(UsageError, match="distinct key columns"):
        tables.diff_tables(side, side, ["id", "id"])
    with pytest.raises(UsageError, match="sample"):
        tables.diff_tables(side, side, ["id"], sample=-1)
