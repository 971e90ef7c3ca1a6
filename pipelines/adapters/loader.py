"""The loader core: stream extracted rows into staging tables, then publish them in the same transaction.

One ``Load`` is one warehouse transaction. It opens with ``LOCK TABLE <target>.etl_state`` (one load per
target at a time), stages every table it moves, publishes them, records their state, computes their
checksums, and commits once. A run killed anywhere before that commit leaves nothing behind: PostgreSQL
and Redshift roll the transaction back, staging tables and all, and the target is exactly as before.

Staging (``stage``): PostgreSQL gets the rows through ``COPY ... FROM STDIN`` in text format with
``NULL 'NULL'``, nearly as the source client wrote them (``to_pg_copy``: carriage returns escaped, the
marked string ``NULL`` turned into ``\\x4eULL``). Redshift gets them from S3 (``pipelines.adapters.redshift``),
selected by ``LoadConfig``.

Publishing:

- ``swap`` (full refresh): the rows go into a new table ``<name>__swap`` built from the table's
  definition; its primary key is added after the load; the old table is dropped and the new one renamed.
- ``merge`` (incremental): the rows go into a temporary table, then replace the target's rows with the
  same key unless the target's version is newer (``updated_column``): the newest version wins, so a
  replayed or overlapping window never moves a row back in time. ``merge_children`` replaces the child
  rows (order items) of every parent row the merge took.

Checksums: ``tablesum``'s (row count, sum of row hashes), the one definition ``bridge``'s table diff
computes too, so two targets holding the same rows agree whatever their order. Never by reading the
table again: a swap hashes the rows as they stream to the stager (``pipelines.etl.checksum``); a merge
takes the table's previous checksum from ``etl_state`` and subtracts the rows it deletes and adds the rows
it inserts (both returned by the statements themselves). Only a table without a previous checksum in
this form (a target written by an older loader, or on Redshift, which has no ``RETURNING``) is read
once to compute it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import psycopg
from psycopg import sql

from pipelines.adapters.db import DatabaseUrl, warehouse_url
from pipelines.adapters.load_sql import (
    create_table_sql,
    merge_children_sql,
    merge_sql,
    stage_name,
    swap_name,
    swap_sql,
)
from pipelines.adapters.warehouse import qualified
from pipelines.common.tables import TableSpec
from pipelines.common.targets import validate_target
from pipelines.etl.checksum import StreamChecksum
from pipelines.etl.tables import EtlTable
from tablesum import TableChecksum

STATE = TableSpec(
    name="etl_state",
    columns=(
        ("table_name", "VARCHAR(128) NOT NULL"),
        ("watermark", "TIMESTAMP"),
        ("rows_total", "BIGINT NOT NULL"),
        ("checksum", "VARCHAR(64) NOT NULL"),
    ),
    key=("table_name",),
)
STAGING_ENV = "BRIDGE_ETL_STAGING"
STAGINGS = ("auto", "copy", "s3")
_LITERAL_NULL = re.compile(rb"NULL\\0(?=[\t\n])")  # a literal prefix: searched at C speed


def to_pg_copy(chunk: bytes) -> bytes:
    """MySQL batch rows -> PostgreSQL ``COPY`` text rows (with ``NULL 'NULL'``).

    The two formats share ``\\t \\n \\\\`` and tab/newline framing; only these differ: a raw carriage
    return would end a PostgreSQL row (escaped as ``\\r``), and the string ``NULL`` (marked ``NULL\\0``
    by the query) must not match the NULL string (written ``\\x4eULL``, which COPY decodes to ``NULL``
    after the NULL test). A real NUL stays ``\\0``: PostgreSQL text cannot hold it and COPY says so.
    """
    if b"\r" in chunk:
        chunk = chunk.replace(b"\r", b"\\r")
    if b"NULL\\0" in chunk:

        def field(match: re.Match[bytes]) -> bytes:  # a whole field only: after a tab, a newline or nothing
            start = match.start()
            return b"\\x4eULL" if start == 0 or chunk[start - 1] in b"\t\n" else match.group()

        chunk = _LITERAL_NULL.sub(field, chunk)
    return chunk


def count_rows(chunk: bytes) -> int:
    return chunk.count(b"\n")


@dataclass(frozen=True)
class LoadConfig:
    """Where staged rows go: ``copy`` (COPY FROM STDIN) or ``s3`` (files in S3, then Redshift's COPY).

    ``auto`` picks ``s3`` for a ``redshift://`` warehouse URL and ``copy`` otherwise. The S3 settings
    (``BRIDGE_ETL_S3_*``) are read by ``pipelines.adapters.redshift``.
    """

    staging: str = "auto"
    dialect: str = "postgresql"
    s3: Any = None  # a redshift.S3Settings when staging is s3

    @classmethod
    def from_env(cls, url: str | None = None) -> LoadConfig:
        dialect = DatabaseUrl.parse(url or warehouse_url()).dialect
        staging = (os.environ.get(STAGING_ENV) or "auto").strip()
        if staging not in STAGINGS:
            raise ValueError(f"{STAGING_ENV}={staging!r}: expected one of {', '.join(STAGINGS)}")
        if staging == "auto":
            staging = "s3" if dialect == "redshift" else "copy"
        s3 = None
        if staging == "s3":
            from pipelines.adapters.redshift import S3Settings

            s3 = S3Settings.from_env()
        return cls(staging=staging, dialect=dialect, s3=s3)


class Stager(Protocol):
    """Moves a stream of MySQL batch chunks into a warehouse table; returns the rows read."""

    def stage(
        self,
        cur: psycopg.Cursor[Any],
        table: sql.Composable,
        columns: tuple[str, ...],
        chunks: Iterable[bytes],
        label: str,
    ) -> int: ...


class CopyStager:
    """PostgreSQL: ``COPY table (columns) FROM STDIN`` fed chunk by chunk (flat memory)."""

    def stage(
        self,
        cur: psycopg.Cursor[Any],
        table: sql.Composable,
        columns: tuple[str, ...],
        chunks: Iterable[bytes],
        label: str,
    ) -> int:
        statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT text, NULL 'NULL')").format(
            table, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        rows = 0
        with cur.copy(statement) as copy:
            for chunk in chunks:
                rows += count_rows(chunk)
                copy.write(to_pg_copy(chunk))
        return rows


def make_stager(config: LoadConfig) -> Stager:
    if config.staging == "s3":
        from pipelines.adapters.redshift import S3Stager

        return S3Stager(config.s3)
    return CopyStager()


# -- SQL pieces (the common subset of PostgreSQL and Redshift unless said otherwise) --------------------


def _max(cur: psycopg.Cursor[Any], column: str, table: sql.Composable) -> Any:
    """``MAX(column)`` over ``table`` (None when it is empty)."""
    row = cur.execute(sql.SQL("SELECT MAX({}) FROM {}").format(sql.Identifier(column), table)).fetchone()
    return None if row is None else row[0]


def _key_first(table: EtlTable, relation: str | None = None) -> sql.Composed:
    """The table's columns, key columns first (the order of ``tablesum``'s row text)."""
    names = [*table.key, *(n for n in table.column_names if n not in table.key)]
    return sql.SQL(", ").join(sql.Identifier(relation, n) if relation else sql.Identifier(n) for n in names)


@dataclass
class TableResult:
    """What one table's load did."""

    table: str
    rows_read: int = 0
    rows_written: int = 0
    rows_total: int = 0
    checksum: str = ""
    watermark_before: datetime | None = None
    watermark_after: datetime | None = None


@dataclass
class Load:
    """One transaction on one target; see the module doc. Create it with ``open_load``."""

    conn: psycopg.Connection[Any]
    target: str
    config: LoadConfig
    stager: Stager
    results: dict[str, TableResult] = field(default_factory=dict)

    def state(self, table: str) -> tuple[datetime | None, int, str] | None:
        """(watermark, rows_total, checksum) recorded for ``table`` by the last committed load, if any."""
        row = self.conn.execute(
            sql.SQL("SELECT watermark, rows_total, checksum FROM {} WHERE table_name = %s").format(
                qualified(self.target, STATE.name)
            ),
            (table,),
        ).fetchone()
        return None if row is None else (row[0], int(row[1]), row[2])

    def _result(self, table: EtlTable) -> TableResult:
        previous = self.state(table.name)
        result = TableResult(table.name, watermark_before=previous[0] if previous else None)
        self.results[table.name] = result
        return result

    def swap_in(self, table: EtlTable, chunks: Iterable[bytes]) -> TableResult:
        """Full refresh of ``table`` from ``chunks`` (published when the load commits)."""
        result = self._result(table)
        with self.conn.cursor() as cur:
            redshift = self.config.dialect == "redshift"
            cur.execute(
                sql.SQL("DROP TABLE IF EXISTS {}").format(qualified(self.target, swap_name(table.name)))
            )
            cur.execute(
                create_table_sql(self.target, table.spec, swap_name(table.name), primary_key=redshift)
            )
            summed = StreamChecksum(table)
            result.rows_read = self.stager.stage(
                cur,
                qualified(self.target, swap_name(table.name)),
                table.column_names,
                summed.tap(chunks),
                f"{self.target}/{table.name}",
            )
            if summed.count != result.rows_read:
                raise RuntimeError(f"{table.name}: {result.rows_read} rows staged but {summed.count} hashed")
            result.rows_written = result.rows_read
            for statement in swap_sql(self.target, table, self.config.dialect):
                cur.execute(statement)
        self._finish(table, result, after=None, checksum=summed.checksum)
        return result

    def stage(self, table: EtlTable, chunks: Iterable[bytes]) -> TableResult:
        """Stage ``table``'s changed rows in a temporary table (merged by ``merge``)."""
        result = self._result(table)
        stage = sql.Identifier(stage_name(table.name))
        with self.conn.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage))
            cur.execute(
                sql.SQL("CREATE TEMPORARY TABLE {} (LIKE {})").format(
                    stage, qualified(self.target, table.name)
                )
            )
            result.rows_read = self.stager.stage(
                cur, stage, table.column_names, chunks, f"{self.target}/{table.name}"
            )
        return result

    def merge(self, table: EtlTable, children: tuple[EtlTable, str] | None = None) -> None:
        """Merge the staged ``table``, newest version wins; then replace the children (staged table
        ``children[0]``, linked by its column ``children[1]``) of every parent row the merge took."""
        result = self.results[table.name]
        checksums: dict[str, TableChecksum] = {}
        with self.conn.cursor() as cur:
            checksums[table.name] = self._previous_checksum(cur, table)
            if children is not None:
                checksums[children[0].name] = self._previous_checksum(cur, children[0])
            delete, insert = merge_sql(self.target, table)
            result.rows_written = self._apply(cur, table, delete, insert, checksums)
            if children is not None:
                child, link = children
                delete, insert = merge_children_sql(self.target, table, child, link)
                self.results[child.name].rows_written = self._apply(cur, child, delete, insert, checksums)
            staged_max = None
            if table.updated_column:
                staged_max = _max(cur, table.updated_column, sql.Identifier(stage_name(table.name)))
            for name in (table.name, *([children[0].name] if children else [])):
                cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(stage_name(name))))
        after = max((m for m in (result.watermark_before, staged_max) if m is not None), default=None)
        self._finish(table, result, after=after, checksum=checksums[table.name])
        if children is not None:
            self._finish(
                children[0], self.results[children[0].name], after=after, checksum=checksums[children[0].name]
            )

    def _previous_checksum(self, cur: psycopg.Cursor[Any], table: EtlTable) -> TableChecksum:
        """The table's checksum before this load: from ``etl_state``, else by reading the table once."""
        state = self.state(table.name)
        previous = TableChecksum.parse(state[2]) if state else None
        if previous is not None and self.config.dialect != "redshift":
            return previous
        cur.execute(
            sql.SQL("SELECT {} FROM {}").format(_key_first(table), qualified(self.target, table.name))
        )
        return TableChecksum.of_rows(cur)

    def _apply(
        self,
        cur: psycopg.Cursor[Any],
        table: EtlTable,
        delete: sql.Composed,
        insert: sql.Composed,
        checksums: dict[str, TableChecksum],
    ) -> int:
        """Run a merge's delete and insert, keeping ``checksums[table]`` up to date; the rows inserted."""
        if self.config.dialect == "redshift":  # no RETURNING: read the merged table once
            cur.execute(delete)
            cur.execute(insert)
            count = max(cur.rowcount, 0)
            cur.execute(
                sql.SQL("SELECT {} FROM {}").format(_key_first(table), qualified(self.target, table.name))
            )
            checksums[table.name] = TableChecksum.of_rows(cur)
            return count
        returning = sql.SQL(" RETURNING {}").format(_key_first(table, table.name))
        cur.execute(delete + returning)
        deleted = TableChecksum.of_rows(cur)
        cur.execute(insert + returning)
        inserted = TableChecksum.of_rows(cur)
        checksums[table.name] = checksums[table.name].remove(deleted).merge(inserted)
        return inserted.rows

    def _finish(
        self, table: EtlTable, result: TableResult, after: datetime | None, checksum: TableChecksum
    ) -> None:
        with self.conn.cursor() as cur:
            if table.updated_column and after is None:
                after = _max(cur, table.updated_column, qualified(self.target, table.name))
            result.watermark_after = after
            result.rows_total, result.checksum = checksum.rows, str(checksum)
            state = qualified(self.target, STATE.name)
            cur.execute(sql.SQL("DELETE FROM {} WHERE table_name = %s").format(state), (table.name,))
            cur.execute(
                sql.SQL(
                    "INSERT INTO {} (table_name, watermark, rows_total, checksum) VALUES (%s, %s, %s, %s)"
                ).format(state),
                (table.name, after, result.rows_total, result.checksum),
            )


@contextmanager
def open_load(conn: psycopg.Connection[Any], target: str, config: LoadConfig) -> Iterator[Load]:
    """One load transaction on ``target`` (whose tables and ``etl_state`` exist), on a clean transaction
    of ``conn`` (whose session time zone becomes UTC): commits if the block ends normally, rolls back
    otherwise."""
    target = validate_target(target)
    conn.rollback()
    try:
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute("SET DATESTYLE TO 'ISO, MDY'")
        conn.execute(sql.SQL("LOCK TABLE {}").format(qualified(target, STATE.name)))
        yield Load(conn, target, config, make_stager(config))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
