"""Compare a table output of the Airflow run with the Prefect run's, across databases, by checksums.

Each database hashes its own rows (see :mod:`bridge.compare.dialects` for the canonical text both engines
agree on); only per-bucket counts and sums of hashes cross the network, and rows are fetched only where
those differ:

1. **Pass 1**, one full scan per side, both sides at once: ``GROUP BY`` a bucket, giving ``(count, sum of
   row hashes)`` per bucket. If the first key column is an integer, the bucket is ``key / width`` (width a
   power of two chosen from min/max and the row estimate for ~``ROWS_PER_BUCKET`` rows per bucket);
   otherwise it is a prefix of ``md5(key text)``. Equal buckets are done.
2. **Pass 2**, differing buckets only. Integer keys: a bucket holding more than ``FETCH_ROWS`` rows is
   split 16 ways (``WHERE key BETWEEN a AND b``, which the primary-key index serves) until small; then
   ``(key, row hash)`` is fetched for those ranges and matched. A bucket empty on one side needs no fetch:
   all its rows are only on the other. Other keys: the rows of the differing md5 prefixes are fetched
   (one more scan, filtered by prefix). For the changed rows of the sample, each compared column's
   canonical text is fetched, naming the columns that differ.

Both sides read one snapshot each (PostgreSQL REPEATABLE READ, MySQL consistent snapshot), so a
diff is consistent per side even while the tables are written.

A declaration that does not fit the tables (a table or column missing, a key that is not unique) raises
:class:`~bridge.errors.UsageError`; a database that cannot be reached raises
:class:`~bridge.errors.DatabaseUnavailableError`. A caller that records failures instead of raising them
(the shadow runner) builds ``TableDiff(..., error=str(exc))``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bridge.compare.buckets import (
    BucketDiff,
    Range,
    RowMatch,
    Sums,
    T,
    add_sums,
    bucket_range,
    columns_differing,
    differing,
    first_keys,
    match_rows,
    merge_ranges,
    plan_width,
    prefix_digits,
)
from bridge.compare.connections import Connection, connect
from bridge.compare.dialects import INT, Column, element_kind
from bridge.compare.model import ChangedRow, TableDiff, TableSide
from bridge.errors import UsageError

__all__ = ["diff_tables", "table_checksum"]

FETCH_ROWS = 1024  # a differing bucket with at most this many rows is fetched, not split
SPLIT_BITS = 4  # a bucket too big to fetch is split in 2**SPLIT_BITS
RANGES_PER_QUERY = 500  # key ranges OR-ed in one WHERE

# -- one side's SQL -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """One side, resolved: its session, table, key and compared columns, and the SQL that hashes rows."""

    conn: Connection
    rel: str
    key: tuple[Column, ...]
    columns: tuple[Column, ...]
    key_text: str
    elements: tuple[str, ...]
    row_hash: str

    def q(self, name: str) -> str:
        return self.conn.dialect.quote(name)

    @property
    def key_list(self) -> str:
        return ", ".join(self.q(c.name) for c in self.key)


def _describe(conn: Connection, side: TableSide) -> list[Column]:
    rows = conn.query(conn.dialect.columns_sql(), (side.schema, side.table))
    if not rows:
        raise UsageError(
            f"{conn.label} table {side.schema}.{side.table} not found in {conn.where}"
            " (or not visible to this user)"
        )
    return [
        Column(str(name), str(dtype), conn.dialect.category(str(dtype), str(full)))
        for name, dtype, full in rows
    ]


def _resolve(
    names: Sequence[str], columns: Sequence[Column], conn: Connection, side: TableSide, what: str
) -> tuple[Column, ...]:
    by_name = {c.name: c for c in columns}
    out = []
    for name in names:
        found = by_name.get(name)
        if found is None:
            folded = [c for c in columns if c.name.lower() == name.lower()]
            found = folded[0] if len(folded) == 1 else None
        if found is None:
            raise UsageError(
                f"{what} column {name!r} not found in the {conn.label} table "
                f"{side.schema}.{side.table} ({conn.where}); it has: " + ", ".join(c.name for c in columns)
            )
        out.append(found)
    return tuple(out)


def _plans(
    conns: tuple[Connection, Connection],
    sides: tuple[TableSide, TableSide],
    described: tuple[list[Column], list[Column]],
    key: Sequence[str],
    columns: Sequence[str] | None,
) -> tuple[_Plan, _Plan]:
    if columns is None:
        key_folded = {k.lower() for k in key}
        columns = [c.name for c in described[0] if c.name.lower() not in key_folded]
    columns = list(dict.fromkeys(c for c in columns if c not in key))
    keys = [_resolve(key, d, c, s, "key") for c, s, d in zip(conns, sides, described, strict=False)]
    cols = [_resolve(columns, d, c, s, "compared") for c, s, d in zip(conns, sides, described, strict=False)]
    key_kinds = [element_kind(a.category, p.category) for a, p in zip(*keys, strict=False)]
    col_kinds = [element_kind(a.category, p.category) for a, p in zip(*cols, strict=False)]
    return _plan(conns[0], sides[0], keys[0], cols[0], key_kinds, col_kinds), _plan(
        conns[1], sides[1], keys[1], cols[1], key_kinds, col_kinds
    )


def _plan(
    conn: Connection,
    side: TableSide,
    key: tuple[Column, ...],
    columns: tuple[Column, ...],
    key_kinds: Sequence[str],
    col_kinds: Sequence[str],
) -> _Plan:
    d = conn.dialect
    key_elements = [d.element(c, k) for c, k in zip(key, key_kinds, strict=False)]
    elements = tuple(d.element(c, k) for c, k in zip(columns, col_kinds, strict=False))
    return _Plan(
        conn=conn,
        rel=d.table(side.schema, side.table),
        key=key,
        columns=columns,
        key_text=d.joined(key_elements),
        elements=elements,
        row_hash=d.row_hash(d.joined(key_elements + list(elements))),
    )


# -- bucket strategies ----------------------------------------------------------------------------


class _IntBuckets:
    """Buckets ``first key column / width``; selections are key ranges."""

    def __init__(self, width: int) -> None:
        self.width = width

    def group(self, plan: _Plan, width: int | None = None) -> str:
        return plan.conn.dialect.int_div(plan.q(plan.key[0].name), width or self.width)

    @staticmethod
    def where(
        plan: _Plan, ranges: Sequence[Range], *, superset: bool = False
    ) -> list[tuple[str, tuple[Any, ...]]]:
        k = plan.q(plan.key[0].name)
        merged = merge_ranges(ranges)
        out = []
        for i in range(0, len(merged), RANGES_PER_QUERY):
            terms = [
                f"{k} IS NULL" if r is None else f"{k} BETWEEN {int(r[0])} AND {int(r[1])}"
                for r in merged[i : i + RANGES_PER_QUERY]
            ]
            out.append(("(" + " OR ".join(terms) + ")", ()))
        return out


class _HashBuckets:
    """Buckets ``prefix of md5(key text)``; selections are prefixes."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def group(self, plan: _Plan) -> str:
        return plan.conn.dialect.md5_prefix(plan.key_text, self.digits)

    def where(
        self, plan: _Plan, prefixes: Sequence[str], *, superset: bool = False
    ) -> list[tuple[str, tuple[Any, ...]]]:
        """``superset``: the caller filters rows itself, so most of the table may as well be all of it."""
        if not prefixes:
            return []
        if superset and len(prefixes) * 4 > 16**self.digits:
            return [("1 = 1", ())]
        holders = ", ".join([plan.conn.dialect.placeholder] * len(prefixes))
        return [(f"{self.group(plan)} IN ({holders})", tuple(prefixes))]


# -- the diff -------------------------------------------------------------------------------------


class _Pair:
    """Both sides' sessions and two threads: every step runs on both databases at once."""

    def __init__(self, airflow: TableSide, prefect: TableSide) -> None:
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="table-diff")
        futures = [
            self.pool.submit(connect, airflow.url, "airflow"),
            self.pool.submit(connect, prefect.url, "prefect"),
        ]
        conns, errors = [], []
        for f in futures:
            try:
                conns.append(f.result())
            except Exception as exc:
                errors.append(exc)
        if errors:
            for c in conns:
                c.close()
            self.pool.shutdown()
            raise errors[0]
        self.conns: tuple[Connection, Connection] = (conns[0], conns[1])

    def both(self, fn: Callable[[int], T]) -> tuple[T, T]:
        """``fn(0)`` (airflow) and ``fn(1)`` (prefect) at once, each on its own side's session."""
        fa, fb = self.pool.submit(fn, 0), self.pool.submit(fn, 1)
        try:
            return fa.result(), fb.result()
        finally:
            fb.exception()  # never leave the other side's query running

    @property
    def queries(self) -> int:
        return self.conns[0].queries + self.conns[1].queries

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for c in self.conns:
            c.close()


def _group_sums(plan: _Plan, group: str, where: list[tuple[str, tuple[Any, ...]]] | None) -> Sums:
    sums: Sums = {}
    suffix = " ORDER BY NULL" if plan.conn.dialect.name == "mysql" else ""
    for cond, params in where if where is not None else [("1 = 1", ())]:
        sql = (
            f"SELECT {group}, COUNT(*), SUM({plan.row_hash}) FROM {plan.rel} WHERE {cond} GROUP BY 1{suffix}"
        )
        add_sums(sums, plan.conn.query(sql, params))
    return sums


def _fetch_hashes(
    plan: _Plan, where: list[tuple[str, tuple[Any, ...]]]
) -> dict[str, tuple[tuple[Any, ...], int]]:
    rows: dict[str, tuple[tuple[Any, ...], int]] = {}
    n = len(plan.key)
    for cond, params in where:
        sql = f"SELECT {plan.key_list}, {plan.key_text}, {plan.row_hash} FROM {plan.rel} WHERE {cond}"
        for row in plan.conn.query(sql, params):
            text = str(row[n])
            if text in rows:
                raise UsageError(
                    f"the key ({plan.key_list}) is not unique in the {plan.conn.label} table "
                    f"{plan.rel} ({plan.conn.where}): {row[:n]!r} appears twice"
                )
            rows[text] = (tuple(row[:n]), int(row[n + 1]))
    return rows


def _first_keys_where(plan: _Plan, where: list[tuple[str, tuple[Any, ...]]], n: int) -> list[tuple[Any, ...]]:
    keys: list[tuple[Any, ...]] = []
    for cond, params in where:
        sql = f"SELECT {plan.key_list} FROM {plan.rel} WHERE {cond} ORDER BY {plan.key_list} LIMIT {int(n)}"
        keys += [tuple(r) for r in plan.conn.query(sql, params)]
    return keys


def _stats(plan: _Plan, side: TableSide, integer: bool) -> tuple[Any, ...]:
    """(min, max) of the first key column when it is an integer (index probes), and the row estimate."""
    sql, params = plan.conn.dialect.stats_sql(side.schema, side.table, plan.key[0].name if integer else None)
    return plan.conn.query(sql, params)[0]


def _column_texts(plan: _Plan, keys: Sequence[tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    """Canonical text of each compared column for the rows with these keys (this side's key values)."""
    if not keys or not plan.elements:
        return {}
    ph = plan.conn.dialect.placeholder
    if len(plan.key) == 1:
        cond = f"{plan.key_list} IN ({', '.join([ph] * len(keys))})"
    else:
        one = "(" + ", ".join([ph] * len(plan.key)) + ")"
        cond = f"({plan.key_list}) IN ({', '.join([one] * len(keys))})"
    params = tuple(v for k in keys for v in k)
    sql = f"SELECT {plan.key_text}, {', '.join(plan.elements)} FROM {plan.rel} WHERE {cond}"
    return {str(r[0]): tuple(r[1:]) for r in plan.conn.query(sql, params)}


@dataclass
class _Found:
    """What pass 2 learned: rows to match, and buckets known to be one-sided without fetching."""

    fetch: list[Any] = field(default_factory=list)
    only_airflow: list[Any] = field(default_factory=list)
    only_prefect: list[Any] = field(default_factory=list)
    only_airflow_count: int = 0
    only_prefect_count: int = 0

    def sort(self, d: BucketDiff, selection: Any) -> bool:
        """File a one-sided bucket; False if the bucket has rows on both sides."""
        if d.prefect[0] == 0:
            self.only_airflow.append(selection)
            self.only_airflow_count += d.airflow[0]
        elif d.airflow[0] == 0:
            self.only_prefect.append(selection)
            self.only_prefect_count += d.prefect[0]
        else:
            return False
        return True


def _split_sums(
    plans: tuple[_Plan, _Plan], buckets: _IntBuckets, width: int, split: list[Range], i: int
) -> Sums:
    """Side ``i``'s sums over the ``split`` ranges, in buckets of ``width``."""
    return _group_sums(plans[i], buckets.group(plans[i], width), _IntBuckets.where(plans[i], split))


def _bisect(pair: _Pair, plans: tuple[_Plan, _Plan], buckets: _IntBuckets, diffs: list[BucketDiff]) -> _Found:
    found, width = _Found(), buckets.width
    while diffs:
        split: list[Range] = []
        for d in diffs:
            r = bucket_range(d.bucket, width)  # type: ignore[arg-type]
            if found.sort(d, r):
                continue
            if r is None or width == 1 or max(d.airflow[0], d.prefect[0]) <= FETCH_ROWS:
                found.fetch.append(r)
            else:
                split.append(r)
        if not split:
            break
        width = max(1, width >> SPLIT_BITS)
        sums = pair.both(partial(_split_sums, plans, buckets, width, split))
        diffs = differing(*sums)
    return found


def diff_tables(
    airflow: TableSide,
    prefect: TableSide,
    key: Sequence[str],
    columns: Sequence[str] | None = None,
    *,
    sample: int = 10,
) -> TableDiff:
    """Compare the Airflow side's table with the Prefect side's by ``key`` over ``columns``.

    ``columns=None`` compares every column of the Airflow table except the key. The result holds at most
    ``sample`` keys of each kind (the smallest) and the true counts."""
    started = time.perf_counter()
    key = [key] if isinstance(key, str) else list(key)
    if not key or len(set(key)) != len(key):
        raise UsageError(f"a table diff needs distinct key columns, got {key!r}")
    if sample < 0:
        raise UsageError(f"sample must be >= 0, got {sample}")
    sides = (airflow, prefect)
    pair = _Pair(airflow, prefect)
    try:
        described = pair.both(lambda i: _describe(pair.conns[i], sides[i]))
        plans = _plans(pair.conns, sides, described, key, columns)
        strategy = _strategy(pair, plans, sides)
        sums = pair.both(lambda i: _group_sums(plans[i], strategy.group(plans[i]), None))  # pass 1
        diffs = differing(*sums)
        if isinstance(strategy, _IntBuckets):
            found = _bisect(pair, plans, strategy, diffs)
        else:
            found = _Found()
            found.fetch = [d.bucket for d in diffs if not found.sort(d, d.bucket)]
        fetched = pair.both(
            lambda i: _fetch_hashes(plans[i], strategy.where(plans[i], found.fetch, superset=True))
        )
        match = match_rows(*fetched)
        only = [list(match.only_airflow.values()), list(match.only_prefect.values())]
        if sample and (found.only_airflow or found.only_prefect):
            one_sided = (found.only_airflow, found.only_prefect)
            extra = pair.both(
                lambda i: _first_keys_where(plans[i], strategy.where(plans[i], one_sided[i]), sample)
            )
            only = [only[0] + extra[0], only[1] + extra[1]]
        return TableDiff(
            table=airflow.table,
            key=tuple(c.name for c in plans[0].key),
            airflow_rows=sum(c for c, _ in sums[0].values()),
            prefect_rows=sum(c for c, _ in sums[1].values()),
            only_airflow=tuple(first_keys(only[0], sample)),
            only_prefect=tuple(first_keys(only[1], sample)),
            changed=_changed_sample(pair, plans, match, sample),
            only_airflow_count=len(match.only_airflow) + found.only_airflow_count,
            only_prefect_count=len(match.only_prefect) + found.only_prefect_count,
            changed_count=len(match.changed),
            queries=pair.queries,
            seconds=round(time.perf_counter() - started, 3),
        )
    finally:
        pair.close()


def _strategy(
    pair: _Pair, plans: tuple[_Plan, _Plan], sides: tuple[TableSide, TableSide]
) -> _IntBuckets | _HashBuckets:
    """Integer buckets when the first key column is an integer on both sides, else md5 prefixes."""
    integer = plans[0].key[0].category == INT and plans[1].key[0].category == INT
    stats = pair.both(lambda i: _stats(plans[i], sides[i], integer))
    estimate = max(int(s[2] or 0) for s in stats)
    if not integer:
        return _HashBuckets(prefix_digits(estimate))
    lows = [s[0] for s in stats if s[0] is not None]
    highs = [s[1] for s in stats if s[1] is not None]
    return _IntBuckets(plan_width(min(lows, default=None), max(highs, default=None), estimate))


def _changed_sample(
    pair: _Pair, plans: tuple[_Plan, _Plan], match: RowMatch, sample: int
) -> tuple[ChangedRow, ...]:
    by_key = {a: text for text, (a, _) in match.changed.items()}
    texts = [by_key[k] for k in first_keys(by_key, sample)]
    if not texts:
        return ()
    keys = ([match.changed[t][0] for t in texts], [match.changed[t][1] for t in texts])
    values = pair.both(lambda i: _column_texts(plans[i], keys[i]))
    names = [c.name for c in plans[0].columns]
    return tuple(
        ChangedRow(
            key=match.changed[t][0],
            columns=columns_differing(names, values[0].get(t, ()), values[1].get(t, ())),
        )
        for t in texts
    )


def table_checksum(
    side: TableSide, key: Sequence[str], columns: Sequence[str] | None = None
) -> tuple[int, int]:
    """``(row count, sum of row hashes)`` of one table in one full scan: the floor a diff cannot beat.

    Columns are rendered by their own type (a diff between differently typed columns may render a float
    against a decimal by rounding both; this does not)."""
    key = [key] if isinstance(key, str) else list(key)
    conn = connect(side.url, "table")
    try:
        described = _describe(conn, side)
        if columns is None:
            columns = [c.name for c in described if c.name not in key]
        keys = _resolve(key, described, conn, side, "key")
        cols = _resolve([c for c in columns if c not in key], described, conn, side, "compared")
        plan = _plan(
            conn,
            side,
            keys,
            cols,
            [element_kind(c.category, c.category) for c in keys],
            [element_kind(c.category, c.category) for c in cols],
        )
        count, total = conn.query(f"SELECT COUNT(*), SUM({plan.row_hash}) FROM {plan.rel}")[0]
        return int(count), int(total or 0)
    finally:
        conn.close()
