"""A target as a schema of tables: which tables it holds (and their keys), which rows a run wrote, and the
start state a shadow or control target copies from the primary before a run.

Rows written in a run (PostgreSQL): before a run the bridge takes a **marker**, the first transaction id
not yet started (``pg_snapshot_xmax(pg_current_snapshot())``). A row whose ``xmin`` (the transaction that
inserted or last updated it) is at or after the marker was written after it: by this run, or by anything
else writing that target meanwhile. Compared modulo 2**32 as PostgreSQL compares transaction ids, so it
holds for rows less than two billion transactions old (older rows: declare a ``scope``). Rows a run
*deletes* leave no trace; a workflow that deletes rows it is responsible for is compared by a declared
``scope`` or as a full refresh (every row rewritten, so the whole table is compared). Other engines have
no such column: their tables are compared whole unless a ``scope`` is declared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bridge.compare.connections import Connection, connect
from bridge.errors import UsageError

__all__ = ["Marker", "copy_tables", "list_tables", "reset_schema", "take_marker", "written_condition"]

_XID = 2**32


@dataclass(frozen=True)
class Marker:
    """Where a database stood before a run: its engine and (PostgreSQL) the next transaction id."""

    dialect: str
    xid: int | None = None


def take_marker(url: str) -> Marker:
    """The marker of ``url``'s database now (taken just before a run is triggered)."""
    conn = connect(url, "target")
    try:
        if conn.dialect.name != "postgresql":
            return Marker(conn.dialect.name)
        (row,) = conn.query("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
        return Marker("postgresql", int(row[0]) % _XID)
    finally:
        conn.close()


def written_condition(marker: Marker | None) -> str | None:
    """SQL true for the rows written after ``marker`` (None: this engine cannot tell)."""
    if marker is None or marker.xid is None:
        return None
    return f"mod(xmin::text::bigint - {int(marker.xid)} + {_XID}, {_XID}) < {_XID // 2}"


def list_tables(conn: Connection, schema: str) -> dict[str, tuple[str, ...]]:
    """The base tables of ``schema`` with their primary-key columns in key order (``()``: no key)."""
    if conn.dialect.name == "mysql":
        tables_sql = (
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = %s AND table_type = 'BASE TABLE'"
        )
        keys_sql = (
            "SELECT table_name, column_name FROM information_schema.key_column_usage"
            " WHERE table_schema = %s AND constraint_name = 'PRIMARY' ORDER BY table_name, ordinal_position"
        )
    else:
        tables_sql = (
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s::name AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        )
        keys_sql = (
            "SELECT c.relname, a.attname FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos) ON true"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
            " WHERE n.nspname = %s::name AND i.indisprimary ORDER BY c.relname, k.pos"
        )
    tables: dict[str, list[str]] = {str(r[0]): [] for r in conn.query(tables_sql, (schema,))}
    for table, column in conn.query(keys_sql, (schema,)):
        if str(table) in tables:
            tables[str(table)].append(str(column))
    return {name: tuple(key) for name, key in sorted(tables.items())}


def copy_tables(url: str, source: str, dest: str, tables: Sequence[str]) -> list[str]:
    """Make ``dest.<table>`` an exact copy of ``source.<table>`` for each of ``tables`` the source has,
    in one transaction (created like the source's if missing); return the tables copied. A table the
    source lacks is removed from ``dest`` too, so both start from the same (absent) state."""
    if source == dest:
        raise UsageError(f"cannot copy the start state of target {source!r} onto itself")
    conn = connect(url, "target", writable=True)
    try:
        d = conn.dialect
        have = list_tables(conn, source)
        copied = []
        conn.execute(f"CREATE {'DATABASE' if d.name == 'mysql' else 'SCHEMA'} IF NOT EXISTS {d.quote(dest)}")
        for table in tables:
            src, dst = d.table(source, table), d.table(dest, table)
            if table not in have:
                conn.execute(f"DROP TABLE IF EXISTS {dst}")
                continue
            if d.name == "mysql":
                conn.execute(f"CREATE TABLE IF NOT EXISTS {dst} LIKE {src}")
            else:
                conn.execute(f"CREATE TABLE IF NOT EXISTS {dst} (LIKE {src} INCLUDING ALL)")
            conn.execute(f"DELETE FROM {dst}")
            conn.execute(f"INSERT INTO {dst} SELECT * FROM {src}")
            copied.append(table)
        conn.commit()
        return copied
    finally:
        conn.close()


def reset_schema(url: str, schema: str, guard: str) -> None:
    """Drop ``schema`` and everything in it: only for the bridge's own namespaces (calibration controls),
    whose names start with ``guard``."""
    if not schema.startswith(guard):
        raise UsageError(f"refusing to reset {schema!r}: only the bridge's own {guard}* targets are reset")
    conn = connect(url, "target", writable=True)
    try:
        kind = "DATABASE" if conn.dialect.name == "mysql" else "SCHEMA"
        cascade = "" if conn.dialect.name == "mysql" else " CASCADE"
        conn.execute(f"DROP {kind} IF EXISTS {conn.dialect.quote(schema)}{cascade}")
        conn.commit()
    finally:
        conn.close()
