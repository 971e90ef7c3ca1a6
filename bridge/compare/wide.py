"""The table diff when most of the table differs: a per-column summary from a sample, not millions of keys.

A wrong rounding in one column changes every row: every bucket of pass 1 differs, and splitting them down
to rows would re-read the whole table and hold every key in memory. When more than ``WIDE_SHARE`` of the
buckets holding rows on both sides differ (and they hold more than ``SAMPLE_ROWS`` rows), the diff stops
after pass 1 and reads only a sample: the first differing buckets, about ``SAMPLE_ROWS`` rows per side,
with each compared column's canonical text. If fewer than ``ROW_SHARE`` of the sampled rows differ, the
differences are scattered, not wide: the diff goes on bisecting to exact keys. Otherwise each column is
reported with the number of sampled rows in
which it differs and some of their keys (``price: 2048 of 2048 sampled rows differ``); the counts of the
table come from pass 1's buckets: rows only on one side at least the count difference of each bucket,
changed rows at most the rows present on both sides of the differing buckets (``changed_count_bound``).
Memory stays flat: one bucket map and one sample, whatever the table's size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from bridge.compare.buckets import BucketDiff, T, bucket_range, first_keys
from bridge.compare.model import ColumnDiff, TableDiff
from bridge.compare.plans import HashBuckets, IntBuckets, Plan, rows_of
from bridge.errors import UsageError


class Both(Protocol):
    """Runs one step on both sides at once (``bridge.compare.tables.Pair``)."""

    def both(self, fn: Callable[[int], T]) -> tuple[T, T]: ...


__all__ = ["SAMPLE_ROWS", "WIDE_SHARE", "is_wide", "wide_diff"]

WIDE_SHARE = 0.5  # more than this share of the two-sided buckets differ: look at a sample ...
ROW_SHARE = 0.1  # ... and summarize by column if more than this share of its rows differ
SAMPLE_ROWS = 2048  # rows read per side for the per-column summary

Row = tuple[tuple[Any, ...], int, tuple[Any, ...]]  # key, row hash, column texts


def is_wide(diffs: Sequence[BucketDiff], two_sided_buckets: int) -> bool:
    """Whether pass 1's differing buckets call for a per-column summary rather than keys."""
    both = [d for d in diffs if d.airflow[0] and d.prefect[0]]
    rows = sum(max(d.airflow[0], d.prefect[0]) for d in both)
    return rows > SAMPLE_ROWS and len(both) > WIDE_SHARE * max(1, two_sided_buckets)


def _rows(plan: Plan, where: list[tuple[str, tuple[Any, ...]]]) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    n = len(plan.key)
    texts = ", ".join(plan.elements) if plan.elements else "NULL"
    for cond, params in where:
        sql = f"SELECT {plan.key_list}, {plan.key_text}, {plan.row_hash}, {texts} FROM {rows_of(plan, cond)}"
        for row in plan.conn.query(sql, params):
            if str(row[n]) in rows:
                raise UsageError(
                    f"the key ({plan.key_list}) is not unique in the {plan.conn.label} table "
                    f"{plan.rel} ({plan.conn.where}): {row[:n]!r} appears twice"
                )
            rows[str(row[n])] = (tuple(row[:n]), int(row[n + 1]), tuple(row[n + 2 :]))
    return rows


def wide_diff(
    pair: Both,
    plans: tuple[Plan, Plan],
    strategy: IntBuckets | HashBuckets,
    diffs: Sequence[BucketDiff],
    sample: int,
) -> dict[str, Any] | None:
    """The fields of a :class:`TableDiff` summarized by column, or None when the sample shows scattered
    differences rather than wide ones (see the module doc)."""
    both = [d for d in diffs if d.airflow[0] and d.prefect[0]]
    picked, rows = [], 0
    for d in both:
        if rows >= SAMPLE_ROWS:
            break
        bucket: Any = d.bucket
        picked.append(bucket_range(bucket, strategy.width) if isinstance(strategy, IntBuckets) else bucket)
        rows += max(d.airflow[0], d.prefect[0])
    fetched = pair.both(lambda i: _rows(plans[i], strategy.where(plans[i], picked)))  # type: ignore[arg-type]
    airflow, prefect = fetched
    names = [c.name for c in plans[0].columns]
    differing: dict[str, list[tuple[Any, ...]]] = {name: [] for name in names}
    matched = changed = 0
    for text, (key, digest, values) in airflow.items():
        other = prefect.get(text)
        if other is None:
            continue
        matched += 1
        if other[1] == digest:
            continue
        changed += 1
        for name, a, p in zip(names, values, other[2], strict=False):
            if a != p:
                differing[name].append(key)
    if changed <= ROW_SHARE * matched:
        return None
    by_column = tuple(
        ColumnDiff(name, len(keys), matched, tuple(first_keys(keys, sample)))
        for name, keys in differing.items()
        if keys
    )
    only_a = [airflow[t][0] for t in airflow if t not in prefect]
    only_p = [prefect[t][0] for t in prefect if t not in airflow]
    one_a = sum(d.airflow[0] for d in diffs if not d.prefect[0])
    one_p = sum(d.prefect[0] for d in diffs if not d.airflow[0])
    return {
        "only_airflow": tuple(first_keys(only_a, sample)),
        "only_prefect": tuple(first_keys(only_p, sample)),
        "changed": (),
        "only_airflow_count": one_a + sum(max(0, d.airflow[0] - d.prefect[0]) for d in both),
        "only_prefect_count": one_p + sum(max(0, d.prefect[0] - d.airflow[0]) for d in both),
        "changed_count": sum(min(d.airflow[0], d.prefect[0]) for d in both),
        "by_column": by_column,
        "changed_count_bound": True,
    }


def describe_columns(diff: TableDiff, limit: int = 3) -> str:
    """``price: 2048 of 2048 sampled rows differ (e.g. [1], [2]); ...`` (empty when not summarized)."""
    parts = []
    for c in diff.by_column:
        keys = ", ".join(str(list(k)) for k in c.keys[:limit])
        parts.append(f"{c.describe()}" + (f" (e.g. {keys})" if keys else ""))
    return "; ".join(parts)
