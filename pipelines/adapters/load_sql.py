"""The SQL a load runs, per dialect (PostgreSQL, Redshift): the swap of a full refresh, the merge of an
incremental load (children too), and the order-independent table checksum. Pure builders, apart from
``table_checksum`` which runs one. Used by ``pipelines.adapters.loader``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql

from pipelines.adapters.warehouse import qualified
from pipelines.common.tables import TableSpec
from pipelines.etl.tables import EtlTable


def _ids(names: Iterable[str], alias: str | None = None) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(alias, n) if alias else sql.Identifier(n) for n in names)


def _key_match(key: Iterable[str], left: str, right: str) -> sql.Composed:
    return sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier(left, k), sql.Identifier(right, k)) for k in key
    )


def create_table_sql(target: str, spec: TableSpec, name: str, primary_key: bool) -> sql.Composed:
    columns = [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in spec.columns]
    if primary_key:
        columns.append(sql.SQL("PRIMARY KEY ({})").format(_ids(spec.key)))
    return sql.SQL("CREATE TABLE {} ({})").format(qualified(target, name), sql.SQL(", ").join(columns))


def swap_name(table: str) -> str:
    return f"{table}__swap"


def swap_sql(target: str, table: EtlTable, dialect: str) -> list[sql.Composed]:
    """After the rows are in ``<table>__swap``: key it, drop the old table, take its name."""
    new = swap_name(table.name)
    statements: list[sql.Composed] = []
    if dialect == "postgresql":  # Redshift keys are declared at creation and not enforced
        statements.append(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                qualified(target, new), sql.Identifier(f"{new}_pkey"), _ids(table.key)
            )
        )
    statements.append(sql.SQL("DROP TABLE IF EXISTS {}").format(qualified(target, table.name)))
    statements.append(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(qualified(target, new), sql.Identifier(table.name))
    )
    if dialect == "postgresql":
        statements.append(
            sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                qualified(target, table.name),
                sql.Identifier(f"{new}_pkey"),
                sql.Identifier(f"{table.name}_pkey"),
            )
        )
    return statements


def stage_name(table: str) -> str:
    return f"_stage_{table}"


def merge_sql(target: str, table: EtlTable) -> tuple[sql.Composed, sql.Composed]:
    """(delete the target rows the staged ones replace, insert the staged rows that won)."""
    t, s = qualified(target, table.name), sql.Identifier(stage_name(table.name))
    newer: sql.Composable = sql.SQL("")
    if table.updated_column:
        newer = sql.SQL(" AND {} <= {}").format(
            sql.Identifier(table.name, table.updated_column), sql.Identifier("s", table.updated_column)
        )
    key = sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier(table.name, k), sql.Identifier("s", k)) for k in table.key
    )
    delete = sql.SQL("DELETE FROM {} USING {} s WHERE {}{}").format(t, s, key, newer)
    insert = sql.SQL(
        "INSERT INTO {} ({}) SELECT {} FROM {} s WHERE NOT EXISTS (SELECT 1 FROM {} o WHERE {})"
    ).format(
        t, _ids(table.column_names), _ids(table.column_names, "s"), s, t, _key_match(table.key, "o", "s")
    )
    return delete, insert


def merge_children_sql(
    target: str, parent: EtlTable, child: EtlTable, link: str
) -> tuple[sql.Composed, sql.Composed]:
    """Replace the children (``child.link`` = parent key) of each staged parent row that is now published."""
    assert parent.updated_column and len(parent.key) == 1
    pk, upd = parent.key[0], parent.updated_column
    pt, ps = qualified(target, parent.name), sql.Identifier(stage_name(parent.name))
    ct, cs = qualified(target, child.name), sql.Identifier(stage_name(child.name))
    taken = sql.SQL("{} = {} AND {} = {}").format(
        sql.Identifier("p", pk), sql.Identifier("s", pk), sql.Identifier("p", upd), sql.Identifier("s", upd)
    )
    delete = sql.SQL("DELETE FROM {} USING {} s, {} p WHERE {} = {} AND {}").format(
        ct, ps, pt, sql.Identifier(child.name, link), sql.Identifier("s", pk), taken
    )
    insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} c JOIN {} s ON {} = {} JOIN {} p ON {}").format(
        ct,
        _ids(child.column_names),
        _ids(child.column_names, "c"),
        cs,
        ps,
        sql.Identifier("c", link),
        sql.Identifier("s", pk),
        pt,
        taken,
    )
    return delete, insert


def checksum_sql(target: str, table: EtlTable, dialect: str) -> sql.Composed:
    """``SELECT count, lane1, lane2 ...`` over a hash of every row of ``target.table``.

    PostgreSQL: each row's text (``CAST(t AS TEXT)``: the record output, C speed, NULL and empty string
    distinct) hashed by ``hashtextextended`` with two seeds, folded by ``BIT_XOR`` into two 64-bit lanes
    (keys are unique, so no two equal rows can cancel out); twice as fast as md5 and hex parsing. Redshift
    has neither: each column as ``length:value`` (``-`` for NULL) joined by ``|``, md5, four 32-bit
    ``SUM`` lanes via ``STRTOL``. The two dialects' checksums are not comparable with each other, only
    between targets of the same warehouse.
    """
    relation = qualified(target, table.name)
    if dialect != "redshift":
        lanes = sql.SQL(", ").join(
            sql.SQL("BIT_XOR(HASHTEXTEXTENDED(r, {}))").format(sql.Literal(seed)) for seed in (0, 1)
        )
        return sql.SQL("SELECT COUNT(*), {} FROM (SELECT CAST(t AS TEXT) AS r FROM {} t) x").format(
            lanes, relation
        )
    parts = []
    for column in table.columns:
        ref = sql.Identifier(column.name)
        if column.kind == "bool":
            text: sql.Composed = sql.SQL("CASE WHEN {} THEN 't' WHEN NOT {} THEN 'f' END").format(ref, ref)
        else:
            text = sql.SQL("CAST({} AS VARCHAR)").format(ref)
        parts.append(sql.SQL("COALESCE(CAST(LENGTH({}) AS VARCHAR) || ':' || {}, '-')").format(text, text))
    lanes = sql.SQL(", ").join(
        sql.SQL("SUM(STRTOL(SUBSTRING(h, {}, 8), 16))").format(sql.Literal(start)) for start in (1, 9, 17, 25)
    )
    return sql.SQL("SELECT COUNT(*), {} FROM (SELECT MD5({}) AS h FROM {}) x").format(
        lanes, sql.SQL(" || '|' || ").join(parts), relation
    )


def table_checksum(cur: psycopg.Cursor[Any], target: str, table: EtlTable, dialect: str) -> tuple[int, str]:
    """(row count, checksum) of ``target.table`` as this transaction sees it: the sha256 of the column
    names, the count and the lanes of ``checksum_sql``."""
    row = cur.execute(checksum_sql(target, table, dialect)).fetchone()
    assert row is not None
    count, *lanes = row
    text = ",".join(table.column_names) + f"|{count}|" + "|".join(str(int(v or 0)) for v in lanes)
    return int(count), hashlib.sha256(text.encode()).hexdigest()


# -- one load ----------------------------------------------------------------------------------------
