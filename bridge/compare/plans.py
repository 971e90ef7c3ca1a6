"""One side of a table diff: the table as its database describes it, and the SQL run on it.

A :class:`Plan` is one side's table resolved against the declaration (key and compared columns found,
case folded where that is unambiguous), each column rendered as its canonical element (see
:mod:`bridge.compare.dialects`), the row hash built from them. Two bucket strategies group rows for pass 1
and select them for pass 2: :class:`IntBuckets` (first key column / width; selections are key ranges) and
:class:`HashBuckets` (a prefix of md5 of the key text). The query functions below run one step of the diff
on one side; :mod:`bridge.compare.tables` runs them on both at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bridge.compare.buckets import Range, Sums, add_sums, merge_ranges
from bridge.compare.connections import Connection
from bridge.compare.dialects import Column, element_kind
from bridge.compare.model import TableSide
from bridge.errors import UsageError

__all__ = [
    "HashBuckets",
    "IntBuckets",
    "Plan",
    "column_texts",
    "describe",
    "fetch_hashes",
    "first_keys_where",
    "group_sums",
    "key_stats",
    "make_plan",
    "make_plans",
    "resolve",
]

RANGES_PER_QUERY = 500  # key ranges OR-ed in one WHERE
JOIN_RANGES = "FROM "  # a selection that reads a list of key ranges one by one (PostgreSQL), not OR-ed


def rows_of(plan: Plan, cond: str) -> str:
    """What follows ``FROM``: the relation and a WHERE condition, or the ranges' rows read range by range."""
    if cond.startswith(JOIN_RANGES):
        return cond[len(JOIN_RANGES) :].replace("{rel}", plan.rel)
    return f"{plan.rel} WHERE {cond}"


# -- one side's SQL -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
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


def describe(conn: Connection, side: TableSide) -> list[Column]:
    rows = conn.query(conn.dialect.columns_sql(), (side.schema, side.table))
    if not rows:
        raise UsageError(
            f"{conn.label} table {side.schema}.{side.table} not found in {conn.where}"
            " (or not visible to this user)"
        )
    if rows and len(rows[0]) > 3:  # the column position comes 4th where the query leaves ordering to us
        rows = sorted(rows, key=lambda r: int(r[3]))
    return [Column(str(r[0]), str(r[1]), conn.dialect.category(str(r[1]), str(r[2]))) for r in rows]


def resolve(
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


def make_plans(
    conns: tuple[Connection, Connection],
    sides: tuple[TableSide, TableSide],
    described: tuple[list[Column], list[Column]],
    key: Sequence[str],
    columns: Sequence[str] | None,
) -> tuple[Plan, Plan]:
    if columns is None:
        key_folded = {k.lower() for k in key}
        columns = [c.name for c in described[0] if c.name.lower() not in key_folded]
    columns = list(dict.fromkeys(c for c in columns if c not in key))
    keys = [resolve(key, d, c, s, "key") for c, s, d in zip(conns, sides, described, strict=False)]
    cols = [resolve(columns, d, c, s, "compared") for c, s, d in zip(conns, sides, described, strict=False)]
    key_kinds = [element_kind(a.category, p.category) for a, p in zip(*keys, strict=False)]
    col_kinds = [element_kind(a.category, p.category) for a, p in zip(*cols, strict=False)]
    return make_plan(conns[0], sides[0], keys[0], cols[0], key_kinds, col_kinds), make_plan(
        conns[1], sides[1], keys[1], cols[1], key_kinds, col_kinds
    )


def make_plan(
    conn: Connection,
    side: TableSide,
    key: tuple[Column, ...],
    columns: tuple[Column, ...],
    key_kinds: Sequence[str],
    col_kinds: Sequence[str],
) -> Plan:
    d = conn.dialect
    key_elements = [d.element(c, k) for c, k in zip(key, key_kinds, strict=False)]
    elements = tuple(d.element(c, k) for c, k in zip(columns, col_kinds, strict=False))
    rel = d.table(side.schema, side.table)
    if side.where:  # every query of the diff reads only the scoped rows
        where = side.where.replace("%", "%%")  # queries always pass parameters: '%%' means '%'
        rel = f"(SELECT * FROM {rel} WHERE {where}) AS scoped"
    return Plan(
        conn=conn,
        rel=rel,
        key=key,
        columns=columns,
        key_text=d.joined(key_elements),
        elements=elements,
        row_hash=d.row_hash(d.joined(key_elements + list(elements))),
    )


# -- bucket strategies ----------------------------------------------------------------------------


class IntBuckets:
    """Buckets ``first key column / width``; selections are key ranges."""

    def __init__(self, width: int) -> None:
        self.width = width

    def group(self, plan: Plan, width: int | None = None) -> str:
        return plan.conn.dialect.int_div(plan.q(plan.key[0].name), width or self.width)

    @staticmethod
    def where(
        plan: Plan, ranges: Sequence[Range], *, superset: bool = False
    ) -> list[tuple[str, tuple[Any, ...]]]:
        k = plan.q(plan.key[0].name)
        merged = merge_ranges(ranges)
        if plan.conn.dialect.name == "postgresql":
            # The ranges as two arrays, and for each range an index scan of its rows (LATERAL, fenced by
            # OFFSET 0 so the planner cannot turn it into a join that scans the table once per range). A
            # long OR of BETWEENs is planned as a bitmap scan rechecking every term on every row instead.
            spans = [r for r in merged if r is not None]
            out: list[tuple[str, tuple[Any, ...]]] = [(f"{k} IS NULL", ())] if None in merged else []
            if spans:
                join = (
                    f"{JOIN_RANGES}unnest(%s::bigint[], %s::bigint[]) AS bridge_ranges(lo, hi)"
                    f" CROSS JOIN LATERAL (SELECT * FROM {{rel}} WHERE {k} BETWEEN bridge_ranges.lo"
                    " AND bridge_ranges.hi OFFSET 0) AS bridge_rows"
                )
                out.append((join, ([int(a) for a, _ in spans], [int(b) for _, b in spans])))
            return out
        out = []
        for i in range(0, len(merged), RANGES_PER_QUERY):
            terms = [
                f"{k} IS NULL" if r is None else f"{k} BETWEEN {int(r[0])} AND {int(r[1])}"
                for r in merged[i : i + RANGES_PER_QUERY]
            ]
            out.append(("(" + " OR ".join(terms) + ")", ()))
        return out


class HashBuckets:
    """Buckets ``prefix of md5(key text)``; selections are prefixes."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def group(self, plan: Plan) -> str:
        return plan.conn.dialect.md5_prefix(plan.key_text, self.digits)

    def where(
        self, plan: Plan, prefixes: Sequence[str], *, superset: bool = False
    ) -> list[tuple[str, tuple[Any, ...]]]:
        """``superset``: the caller filters rows itself, so most of the table may as well be all of it."""
        if not prefixes:
            return []
        if superset and len(prefixes) * 4 > 16**self.digits:
            return [("1 = 1", ())]
        holders = ", ".join([plan.conn.dialect.placeholder] * len(prefixes))
        return [(f"{self.group(plan)} IN ({holders})", tuple(prefixes))]


# -- queries on one side ------------------------------------------------------------------------


def group_sums(plan: Plan, group: str, where: list[tuple[str, tuple[Any, ...]]] | None) -> Sums:
    sums: Sums = {}
    suffix = " ORDER BY NULL" if plan.conn.dialect.name == "mysql" else ""
    for cond, params in where if where is not None else [("1 = 1", ())]:
        sql = f"SELECT {group}, COUNT(*), SUM({plan.row_hash}) FROM {rows_of(plan, cond)} GROUP BY 1{suffix}"
        add_sums(sums, plan.conn.query(sql, params))
    return sums


def fetch_hashes(
    plan: Plan, where: list[tuple[str, tuple[Any, ...]]]
) -> dict[str, tuple[tuple[Any, ...], int]]:
    rows: dict[str, tuple[tuple[Any, ...], int]] = {}
    n = len(plan.key)
    for cond, params in where:
        sql = f"SELECT {plan.key_list}, {plan.key_text}, {plan.row_hash} FROM {rows_of(plan, cond)}"
        for row in plan.conn.query(sql, params):
            text = str(row[n])
            if text in rows:
                raise UsageError(
                    f"the key ({plan.key_list}) is not unique in the {plan.conn.label} table "
                    f"{plan.rel} ({plan.conn.where}): {row[:n]!r} appears twice"
                )
            rows[text] = (tuple(row[:n]), int(row[n + 1]))
    return rows


def first_keys_where(plan: Plan, where: list[tuple[str, tuple[Any, ...]]], n: int) -> list[tuple[Any, ...]]:
    keys: list[tuple[Any, ...]] = []
    for cond, params in where:
        sql = f"SELECT {plan.key_list} FROM {rows_of(plan, cond)} ORDER BY {plan.key_list} LIMIT {int(n)}"
        keys += [tuple(r) for r in plan.conn.query(sql, params)]
    return keys


def key_stats(plan: Plan, side: TableSide, integer: bool) -> tuple[Any, ...]:
    """(min, max) of the first key column when it is an integer (index probes), and the row estimate."""
    sql, params = plan.conn.dialect.stats_sql(side.schema, side.table, plan.key[0].name if integer else None)
    return plan.conn.query(sql, params)[0]


def column_texts(plan: Plan, keys: Sequence[tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
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
    sql = f"SELECT {plan.key_text}, {', '.join(plan.elements)} FROM {rows_of(plan, cond)}"
    return {str(r[0]): tuple(r[1:]) for r in plan.conn.query(sql, params)}
