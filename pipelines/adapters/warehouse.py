"""Warehouse tables inside a target schema: create if missing, upsert by key, read back what was written.

The SQL is the common subset of PostgreSQL and Redshift: no ``ON CONFLICT`` (Redshift has none, and its
primary keys are not enforced), no arrays, no savepoints. An upsert goes through a temporary staging
table: insert the batch there, delete the target rows with the same keys, insert from staging, read the
written rows back joined on staging, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from pipelines.common.summary import checksum_rows
from pipelines.common.tables import TableSpec
from pipelines.common.targets import validate_target

_INSERT_BATCH = 500  # rows per multi-row INSERT: well under the 65535 bind-parameter limit
_DDL_RACES = (
    psycopg.errors.UniqueViolation,
    psycopg.errors.DuplicateSchema,
    psycopg.errors.DuplicateTable,
    psycopg.errors.DuplicateObject,
)


@dataclass(frozen=True)
class WriteResult:
    """What an upsert wrote: the row count and the checksum of those rows as read back."""

    table: str
    rows: int
    checksum: str


def qualified(target: str, table: str) -> sql.Identifier:
    """``"target"."table"``, the target validated first."""
    return sql.Identifier(validate_target(target), table)


def _columns(names: Sequence[str], alias: str | None = None) -> sql.Composable:
    if alias is None:
        return sql.SQL(", ").join(sql.Identifier(n) for n in names)
    return sql.SQL(", ").join(sql.Identifier(alias, n) for n in names)


def _run_ddl(conn: psycopg.Connection, statement: sql.Composed | sql.SQL) -> None:
    """Run one DDL statement in its own transaction; a concurrent twin creating it first is fine."""
    try:
        conn.execute(statement)
        conn.commit()
    except _DDL_RACES:
        conn.rollback()


def ensure_schema(conn: psycopg.Connection, target: str) -> None:
    """Create the target schema if missing (commits)."""
    _run_ddl(conn, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(validate_target(target))))


def ensure_table(conn: psycopg.Connection, target: str, spec: TableSpec) -> None:
    """Create ``target.spec.name`` if missing (commits). The primary key is declared, for documentation
    and for PostgreSQL; the upsert does not rely on it."""
    columns = [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in spec.columns]
    columns.append(sql.SQL("PRIMARY KEY ({})").format(_columns(spec.key)))
    _run_ddl(
        conn,
        sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
            qualified(target, spec.name), sql.SQL(", ").join(columns)
        ),
    )


def prepare_target(conn: psycopg.Connection, target: str, specs: Sequence[TableSpec]) -> dict[str, object]:
    """Create the schema and the tables (idempotent, commits); return ``{"target", "tables"}``."""
    ensure_schema(conn, target)
    for spec in specs:
        ensure_table(conn, target, spec)
    return {"target": target, "tables": [spec.name for spec in specs]}


def _insert_rows(
    conn: psycopg.Connection, table: sql.Composable, names: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    one = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(names)))
    for start in range(0, len(rows), _INSERT_BATCH):
        batch = rows[start : start + _INSERT_BATCH]
        statement = sql.SQL("INSERT INTO {} ({}) VALUES {}").format(
            table, _columns(names), sql.SQL(", ").join([one] * len(batch))
        )
        conn.execute(statement, [value for row in batch for value in row])


def upsert_rows(
    conn: psycopg.Connection, target: str, spec: TableSpec, rows: Sequence[Sequence[object]]
) -> WriteResult:
    """Replace-or-insert ``rows`` (tuples in ``spec.columns`` order) by key, then read them back.

    One transaction, committed at the end; the returned checksum is over the rows as stored (after the
    column types have rounded or truncated them), so two writers of the same data get the same checksum.
    """
    names = spec.column_names
    target_table = qualified(target, spec.name)
    stage = sql.Identifier(f"_stage_{spec.name}")
    key_match = sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier("t", k), sql.Identifier("s", k)) for k in spec.key
    )
    try:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage))
        conn.execute(sql.SQL("CREATE TEMPORARY TABLE {} (LIKE {})").format(stage, target_table))
        _insert_rows(conn, stage, names, rows)
        conn.execute(sql.SQL("DELETE FROM {} t USING {} s WHERE {}").format(target_table, stage, key_match))
        conn.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                target_table, _columns(names), _columns(names), stage
            )
        )
        written = conn.execute(
            sql.SQL("SELECT {} FROM {} t JOIN {} s ON {}").format(
                _columns(names, "t"), target_table, stage, key_match
            )
        ).fetchall()
        conn.execute(sql.SQL("DROP TABLE {}").format(stage))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return WriteResult(
        table=spec.name, rows=len(written), checksum=checksum_rows(names, written, spec.key_positions)
    )


def read_rows(
    conn: psycopg.Connection,
    target: str,
    spec: TableSpec,
    where: sql.Composable | None = None,
    params: Sequence[object] = (),
) -> list[tuple[object, ...]]:
    """All rows of ``target.spec.name`` (optionally filtered), ordered by key."""
    statement = sql.SQL("SELECT {} FROM {}").format(_columns(spec.column_names), qualified(target, spec.name))
    if where is not None:
        statement = sql.SQL("{} WHERE {}").format(statement, where)
    statement = sql.SQL("{} ORDER BY {}").format(statement, _columns(spec.key))
    rows = conn.execute(statement, params).fetchall()
    conn.commit()
    return rows
