"""Outcomes in PostgreSQL: ``<target>.order_outcomes``, one row per message id, written once.

A batch is copied (``COPY``) into a temporary staging table, then moved with ``INSERT ... SELECT ...
ON CONFLICT (message_id) DO NOTHING RETURNING message_id``: the returned ids are the rows this batch
wrote, every other one was already there (a redelivery, or a competing consumer got it first). One
transaction per batch; the broker is acked only after it commits.

``ON CONFLICT`` is PostgreSQL's (Redshift has none): the outcome store is the PostgreSQL warehouse, the
same database the other pipelines write into through ``pipelines.adapters.db``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

import psycopg
from psycopg import sql

from pipelines.adapters.db import (
    WarehouseLike,
    connect_warehouse,
    ensure_warehouse_database,
    warehouse_connection,
)
from pipelines.adapters.warehouse import prepare_target, qualified
from pipelines.common.summary import checksum_rows
from pipelines.common.tables import TableSpec
from pipelines.common.targets import validate_target
from pipelines.errors import StoreUnavailableError
from pipelines.queues.events import OUTCOME_COLUMNS, Outcome

ORDER_OUTCOMES = TableSpec(
    name="order_outcomes",
    columns=(
        ("message_id", "TEXT NOT NULL"),
        ("event_type", "TEXT"),
        ("order_id", "TEXT"),
        ("customer_id", "TEXT"),
        ("status", "TEXT NOT NULL"),
        ("item_count", "INTEGER"),
        ("total_cents", "BIGINT"),
        ("currency", "TEXT"),
        ("reason", "TEXT"),
    ),
    key=("message_id",),
)
assert ORDER_OUTCOMES.column_names == OUTCOME_COLUMNS
_STAGE = "_order_outcomes_stage"
_TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)


def prepare_outcomes(target: str, warehouse: WarehouseLike = None) -> dict[str, object]:
    """Create the warehouse database (given a URL), the target schema and ``order_outcomes`` if missing."""
    target = validate_target(target)
    if not isinstance(warehouse, psycopg.Connection):
        ensure_warehouse_database(warehouse)
    with warehouse_connection(warehouse) as conn:
        return prepare_target(conn, target, (ORDER_OUTCOMES,))


class PostgresOutcomeStore:
    """The core's ``OutcomeStore`` over one psycopg connection, opened lazily and reopened after a failure.
    ``warehouse``: a URL (``None``: ``$BRIDGE_WAREHOUSE_URL``). The table must exist (``prepare_outcomes``)."""

    def __init__(self, target: str, warehouse: str | None = None) -> None:
        self.target = validate_target(target)
        self.warehouse = warehouse
        self.table = qualified(self.target, ORDER_OUTCOMES.name)
        self._conn: psycopg.Connection | None = None
        self._insert = sql.SQL(
            "INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} "
            "ON CONFLICT (message_id) DO NOTHING RETURNING message_id"
        ).format(
            table=self.table,
            cols=sql.SQL(", ").join(map(sql.Identifier, OUTCOME_COLUMNS)),
            stage=sql.Identifier(_STAGE),
        )
        self._copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(_STAGE), sql.SQL(", ").join(map(sql.Identifier, OUTCOME_COLUMNS))
        )

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            conn = connect_warehouse(self.warehouse)
            conn.execute(
                sql.SQL("CREATE TEMPORARY TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DELETE ROWS").format(
                    sql.Identifier(_STAGE), self.table
                )
            )
            conn.commit()
            self._conn = conn
        return self._conn

    def existing(self, message_ids: Collection[str]) -> set[str]:
        try:
            conn = self._connection()
            rows = conn.execute(
                sql.SQL("SELECT message_id FROM {} WHERE message_id = ANY(%s)").format(self.table),
                [list(message_ids)],
            ).fetchall()
            conn.commit()
        except _TRANSIENT as exc:
            raise StoreUnavailableError(f"outcome store: {exc}") from exc
        return {r[0] for r in rows}

    def write(self, rows: Sequence[Outcome]) -> set[str]:
        try:
            conn = self._connection()
            try:
                with conn.cursor() as cur:
                    with cur.copy(self._copy) as copy:
                        for row in rows:
                            copy.write_row(row)
                    cur.execute(self._insert)
                    inserted = {r[0] for r in cur.fetchall()}
                conn.commit()
            except BaseException:
                if not conn.closed:
                    conn.rollback()
                raise
        except _TRANSIENT as exc:
            raise StoreUnavailableError(f"outcome store: {exc}") from exc
        return inserted

    def reset(self) -> None:
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(Exception):
                conn.close()


def read_outcomes(target: str, warehouse: WarehouseLike = None) -> list[tuple[Any, ...]]:
    """Every row of ``<target>.order_outcomes``, ordered by message id."""
    columns = sql.SQL(", ").join(map(sql.Identifier, OUTCOME_COLUMNS))
    query = sql.SQL("SELECT {} FROM {} ORDER BY message_id").format(
        columns, qualified(target, ORDER_OUTCOMES.name)
    )
    with warehouse_connection(warehouse) as conn:
        rows = conn.execute(query).fetchall()
        conn.commit()
    return rows


def outcome_table_summary(target: str, warehouse: WarehouseLike = None) -> dict[str, Any]:
    """``{"rows", "by_status", "checksum"}`` of the whole table (``pipelines.common.summary`` checksum rule)."""
    rows = read_outcomes(target, warehouse)
    status = OUTCOME_COLUMNS.index("status")
    return {
        "rows": len(rows),
        "by_status": dict(sorted(Counter(r[status] for r in rows).items())),
        "checksum": checksum_rows(OUTCOME_COLUMNS, rows, ORDER_OUTCOMES.key_positions),
    }
