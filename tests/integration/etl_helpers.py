"""Helpers of the scenario-3 loader tests (``test_etl_pipelines``, ``test_etl_fidelity``): read a target
table and the source back in comparable form, and the loader's state. Their fixtures: ``conftest.py``."""

from __future__ import annotations

from datetime import UTC, datetime

from psycopg import sql

from pipelines.adapters import db
from pipelines.etl.tables import EtlTable

DAY = "2025-01-01"
READERS = ("client", "pymysql")


def dump(warehouse: str, target: str, table: EtlTable) -> list[tuple[object, ...]]:
    with db.warehouse_connection(warehouse) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            sql.SQL(", ").join(map(sql.Identifier, table.column_names)),
            sql.Identifier(target, table.name),
            sql.SQL(", ").join(map(sql.Identifier, table.key)),
        )
        return conn.execute(query).fetchall()


def source_rows(url: str, table: EtlTable) -> list[tuple[object, ...]]:
    """The source as the warehouse should hold it: booleans as bool, TIMESTAMP as aware UTC."""
    with db.source_connection(url) as conn, conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00'")
        cur.execute(
            f"SELECT {', '.join(table.column_names)} FROM {table.name} ORDER BY {', '.join(table.key)}"
        )
        rows = cur.fetchall()
    kinds = [c.kind for c in table.columns]
    return [
        tuple(
            bool(v)
            if k == "bool" and v is not None
            else v.replace(tzinfo=UTC)
            if k == "timestamp" and v is not None
            else v
            for k, v in zip(kinds, row, strict=False)
        )
        for row in rows
    ]


def orders_since(url: str, watermark: str) -> set[int]:
    """Ids of the source orders an increment from ``watermark`` (ISO) reads."""
    with db.source_connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM orders WHERE updated_at >= %s", (datetime.fromisoformat(watermark),))
        return {int(r[0]) for r in cur.fetchall()}


def schema_tables(warehouse: str, target: str) -> set[str]:
    with db.warehouse_connection(warehouse) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (target,)
        ).fetchall()
    return {r[0] for r in rows}


def state(warehouse: str, target: str) -> list[tuple[object, ...]]:
    with db.warehouse_connection(warehouse) as conn:
        return conn.execute(
            sql.SQL("SELECT * FROM {} ORDER BY 1").format(sql.Identifier(target, "etl_state"))
        ).fetchall()
