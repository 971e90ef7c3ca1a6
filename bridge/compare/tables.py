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
    bucket_range,
    columns_differing,
    differing,
    first_keys,
    match_rows,
    plan_width,
    prefix_digits,
)
from bridge.compare.connections import Connection, connect
from bridge.compare.dialects import INT, element_kind
from bridge.compare.model import ChangedRow, TableDiff, TableSide
from bridge.compare.plans import (
    HashBuckets,
    IntBuckets,
    Plan,
    column_texts,
    describe,
    fetch_hashes,
    first_keys_where,
    group_sums,
    key_stats,
    make_plan,
    make_plans,
    resolve,
)
from bridge.compare.wide import is_wide, wide_diff
from bridge.errors import UsageError
from tablesum import TableChecksum

__all__ = ["Pair", "changed_sample", "diff_tables", "plans_for", "table_checksum"]

FETCH_ROWS = 1024  # a differing bucket with at most this many rows is fetched, not split ...
FETCH_TOTAL = 16384  # ... unless the differing buckets hold more rows than this: then split those with
MIN_SPLIT_ROWS = 16  # more than this many rows first, so memory stays flat whatever the table's size
SPLIT_BITS = 4  # a bucket too big to fetch is split in 2**SPLIT_BITS

# -- the diff -------------------------------------------------------------------------------------


class Pair:
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
    plans: tuple[Plan, Plan], buckets: IntBuckets, width: int, split: list[Range], i: int
) -> Sums:
    """Side ``i``'s sums over the ``split`` ranges, in buckets of ``width``."""
    return group_sums(plans[i], buckets.group(plans[i], width), IntBuckets.where(plans[i], split))


def _bisect(pair: Pair, plans: tuple[Plan, Plan], buckets: IntBuckets, diffs: list[BucketDiff]) -> _Found:
    found, width = _Found(), buckets.width
    while diffs:
        split: list[Range] = []
        pending = []
        for d in diffs:
            r = bucket_range(d.bucket, width)  # type: ignore[arg-type]
            if not found.sort(d, r):
                pending.append((max(d.airflow[0], d.prefect[0]), r))
        small = FETCH_ROWS if sum(n for n, _ in pending) <= FETCH_TOTAL else MIN_SPLIT_ROWS
        for n, r in pending:
            if r is None or width == 1 or n <= small:
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
    pair: Pair | None = None,
) -> TableDiff:
    """Compare the Airflow side's table with the Prefect side's by ``key`` over ``columns``.

    ``columns=None`` compares every column of the Airflow table except the key. The result holds at most
    ``sample`` keys of each kind (the smallest) and the true counts. ``pair``: sessions already open on
    both sides (the caller closes them)."""
    started = time.perf_counter()
    key = [key] if isinstance(key, str) else list(key)
    if not key or len(set(key)) != len(key):
        raise UsageError(f"a table diff needs distinct key columns, got {key!r}")
    if sample < 0:
        raise UsageError(f"sample must be >= 0, got {sample}")
    sides = (airflow, prefect)
    own = pair is None
    pair = pair or Pair(airflow, prefect)
    queries_before = pair.queries
    try:
        plans = plans_for(pair, sides, key, columns)
        strategy = _strategy(pair, plans, sides)
        sums = pair.both(lambda i: group_sums(plans[i], strategy.group(plans[i]), None))  # pass 1
        diffs = differing(*sums)
        wide = None
        if is_wide(diffs, len(sums[0].keys() & sums[1].keys())):  # by column, from a sample
            wide = wide_diff(pair, plans, strategy, diffs, sample)
        if wide is not None:
            return TableDiff(
                table=airflow.table,
                key=tuple(c.name for c in plans[0].key),
                airflow_rows=sum(c for c, _ in sums[0].values()),
                prefect_rows=sum(c for c, _ in sums[1].values()),
                **wide,
                queries=pair.queries - queries_before,
                seconds=round(time.perf_counter() - started, 3),
            )
        if isinstance(strategy, IntBuckets):
            found = _bisect(pair, plans, strategy, diffs)
        else:
            found = _Found()
            found.fetch = [d.bucket for d in diffs if not found.sort(d, d.bucket)]
        fetched = pair.both(
            lambda i: fetch_hashes(plans[i], strategy.where(plans[i], found.fetch, superset=True))
        )
        match = match_rows(*fetched)
        only = [list(match.only_airflow.values()), list(match.only_prefect.values())]
        if sample and (found.only_airflow or found.only_prefect):
            one_sided = (found.only_airflow, found.only_prefect)
            extra = pair.both(
                lambda i: first_keys_where(plans[i], strategy.where(plans[i], one_sided[i]), sample)
            )
            only = [only[0] + extra[0], only[1] + extra[1]]
        return TableDiff(
            table=airflow.table,
            key=tuple(c.name for c in plans[0].key),
            airflow_rows=sum(c for c, _ in sums[0].values()),
            prefect_rows=sum(c for c, _ in sums[1].values()),
            only_airflow=tuple(first_keys(only[0], sample)),
            only_prefect=tuple(first_keys(only[1], sample)),
            changed=changed_sample(pair, plans, match, sample),
            only_airflow_count=len(match.only_airflow) + found.only_airflow_count,
            only_prefect_count=len(match.only_prefect) + found.only_prefect_count,
            changed_count=len(match.changed),
            queries=pair.queries - queries_before,
            seconds=round(time.perf_counter() - started, 3),
        )
    finally:
        if own:
            pair.close()


def plans_for(
    pair: Pair, sides: tuple[TableSide, TableSide], key: Sequence[str], columns: Sequence[str] | None
) -> tuple[Plan, Plan]:
    """Both sides' tables described and resolved against the declaration."""
    described = pair.both(lambda i: describe(pair.conns[i], sides[i]))
    return make_plans(pair.conns, sides, described, key, columns)


def _strategy(
    pair: Pair, plans: tuple[Plan, Plan], sides: tuple[TableSide, TableSide]
) -> IntBuckets | HashBuckets:
    """Integer buckets when the first key column is an integer on both sides, else md5 prefixes."""
    integer = plans[0].key[0].category == INT and plans[1].key[0].category == INT
    stats = pair.both(lambda i: key_stats(plans[i], sides[i], integer))
    estimate = max(int(s[2] or 0) for s in stats)
    if not integer:
        return HashBuckets(prefix_digits(estimate))
    lows = [s[0] for s in stats if s[0] is not None]
    highs = [s[1] for s in stats if s[1] is not None]
    return IntBuckets(plan_width(min(lows, default=None), max(highs, default=None), estimate))


def changed_sample(
    pair: Pair, plans: tuple[Plan, Plan], match: RowMatch, sample: int
) -> tuple[ChangedRow, ...]:
    by_key = {a: text for text, (a, _) in match.changed.items()}
    texts = [by_key[k] for k in first_keys(by_key, sample)]
    if not texts:
        return ()
    keys = ([match.changed[t][0] for t in texts], [match.changed[t][1] for t in texts])
    values = pair.both(lambda i: column_texts(plans[i], keys[i]))
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
) -> TableChecksum:
    """``(row count, sum of row hashes)`` of one table in one full scan: the floor a diff cannot beat, and
    :mod:`tablesum`'s checksum, the one an ETL run's summary reports for the table it loaded.

    Columns are rendered by their own type (a diff between differently typed columns may render a float
    against a decimal by rounding both; this does not)."""
    key = [key] if isinstance(key, str) else list(key)
    conn = connect(side.url, "table")
    try:
        described = describe(conn, side)
        if columns is None:
            columns = [c.name for c in described if c.name not in key]
        keys = resolve(key, described, conn, side, "key")
        cols = resolve([c for c in columns if c not in key], described, conn, side, "compared")
        plan = make_plan(
            conn,
            side,
            keys,
            cols,
            [element_kind(c.category, c.category) for c in keys],
            [element_kind(c.category, c.category) for c in cols],
        )
        count, total = conn.query(f"SELECT COUNT(*), SUM({plan.row_hash}) FROM {plan.rel}")[0]
        return TableChecksum(int(count), int(total or 0))
    finally:
        conn.close()
