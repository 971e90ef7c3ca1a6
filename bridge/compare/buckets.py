"""The pure arithmetic of the table diff: bucket widths and ranges, per-bucket sums, row matching.

No database here: :mod:`bridge.compare.tables` runs the SQL and uses these to decide what to ask next.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

ROWS_PER_BUCKET = 256  # pass 1 aims at this many rows per bucket
MAX_BUCKETS = 16384  # ... but never more buckets than this (pass 1 returns one row per bucket)

Range = tuple[int, int] | None  # an inclusive key range; None selects rows whose key is NULL
Sums = dict[Hashable, tuple[int, int]]  # bucket -> (row count, sum of row hashes)
T = TypeVar("T")


# -- pure planning --------------------------------------------------------------------------------


def next_pow2(n: int) -> int:
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


def plan_width(
    lo: int | None,
    hi: int | None,
    estimate: int | None,
    *,
    rows_per_bucket: int | None = None,
    max_buckets: int | None = None,
) -> int:
    """Bucket width (a power of two) for integer keys in [lo, hi] over ~``estimate`` rows.

    Without an estimate (statistics never gathered) the keys are assumed dense."""
    if lo is None or hi is None:
        return 1
    rows_per_bucket = rows_per_bucket or ROWS_PER_BUCKET
    max_buckets = max_buckets or MAX_BUCKETS
    span = hi - lo + 1
    rows = estimate if estimate and estimate > 0 else span
    buckets = min(max(1, -(-rows // rows_per_bucket)), max_buckets)
    return next_pow2(-(-span // buckets))


def trunc_div(k: int, width: int) -> int:
    """Integer division truncated toward zero, as SQL ``/`` (PostgreSQL) and ``DIV`` (MySQL) do."""
    q = abs(k) // width
    return q if k >= 0 else -q


def bucket_range(bucket: int | None, width: int) -> Range:
    """The keys k with ``trunc_div(k, width) == bucket`` (bucket 0 spans both sides of zero)."""
    if bucket is None:
        return None
    if bucket > 0:
        return bucket * width, bucket * width + width - 1
    if bucket < 0:
        return bucket * width - width + 1, bucket * width
    return -width + 1, width - 1


def merge_ranges(ranges: Iterable[Range]) -> list[Range]:
    """Sorted, with overlapping and adjacent ranges merged; a None (NULL keys) kept once, first."""
    items = list(ranges)
    merged: list[Range] = [None] if None in items else []
    spans = sorted(r for r in items if r is not None)
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return merged + list(out)


def prefix_digits(estimate: int | None, *, rows_per_bucket: int | None = None) -> int:
    """Hex digits of ``md5(key)`` that make buckets of ~``rows_per_bucket`` rows (1..4; 3 if unknown)."""
    if not estimate or estimate <= 0:
        return 3
    rows_per_bucket = rows_per_bucket or ROWS_PER_BUCKET
    digits, buckets = 1, 16
    while buckets * rows_per_bucket < estimate and digits < 4:
        digits, buckets = digits + 1, buckets * 16
    return digits


@dataclass(frozen=True)
class BucketDiff:
    bucket: Hashable
    airflow: tuple[int, int]  # (count, checksum); (0, 0) when the bucket is empty on that side
    prefect: tuple[int, int]


def differing(
    airflow: Mapping[Hashable, tuple[int, int]], prefect: Mapping[Hashable, tuple[int, int]]
) -> list[BucketDiff]:
    """The buckets whose (count, checksum) differ, in a stable order."""
    out = []
    for bucket in set(airflow) | set(prefect):
        a, p = airflow.get(bucket, (0, 0)), prefect.get(bucket, (0, 0))
        if a != p:
            out.append(BucketDiff(bucket, a, p))
    return sorted(out, key=lambda d: (d.bucket is not None, 0 if d.bucket is None else d.bucket))


def add_sums(into: Sums, rows: Iterable[tuple[Any, ...]]) -> Sums:
    """Fold query rows of (bucket, count, sum) into ``into`` (buckets may come from several queries)."""
    for bucket, count, total in rows:
        c, s = into.get(bucket, (0, 0))
        into[bucket] = (c + int(count), s + int(total or 0))
    return into


@dataclass
class RowMatch:
    """Fetched rows matched by canonical key text: what is only on one side, what changed."""

    only_airflow: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # key text -> key
    only_prefect: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    changed: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = field(default_factory=dict)


def match_rows(
    airflow: Mapping[str, tuple[tuple[Any, ...], int]], prefect: Mapping[str, tuple[tuple[Any, ...], int]]
) -> RowMatch:
    """Rows given as key text -> (key values, row hash) on each side."""
    match = RowMatch()
    for text, (key, digest) in airflow.items():
        other = prefect.get(text)
        if other is None:
            match.only_airflow[text] = key
        elif other[1] != digest:
            match.changed[text] = (key, other[0])
    for text, (key, _) in prefect.items():
        if text not in airflow:
            match.only_prefect[text] = key
    return match


def first_keys(keys: Iterable[tuple[Any, ...]], n: int) -> list[tuple[Any, ...]]:
    """The ``n`` smallest keys (by value; by text when values of mixed types cannot be ordered)."""
    items = list(keys)
    try:
        items.sort()
    except TypeError:
        items.sort(key=lambda k: tuple(map(str, k)))
    return items[: max(0, n)]


def columns_differing(
    names: Sequence[str], airflow: Sequence[Any], prefect: Sequence[Any]
) -> tuple[str, ...]:
    return tuple(name for name, a, p in zip(names, airflow, prefect, strict=False) if a != p)
