"""Which databases and schemas are the bridge's own, so that only those are ever dropped or reseeded.

A database the bridge creates is marked on creation (``pipelines.adapters.db.ensure_source_database``,
``ensure_warehouse_database``; the dev stack's metadata databases likewise):

- MySQL/MariaDB (no database comments there): a one-row table ``bridge_owned`` in the database;
- PostgreSQL/Redshift: the database's comment starts with ``bridge_owned`` (no table in ``public``, where a
  target's table listing would see it); a schema the demo creates gets the same comment.

The dev stack's default databases (``DEV_DATABASES`` on a loopback host) count as the bridge's own too:
they were created before the marker existed. Before any destructive act (a seeder's ``DROP TABLE``, the
demo's ``DROP SCHEMA ... CASCADE``, a teardown's ``DROP DATABASE``) the caller asks ``require_owned`` or
``require_schema_owned``; anything else raises ``NotOwnedError`` with one line naming the object and the
override (``--i-own-this-database``), which is never a default.

This module takes open connections only (``pipelines.adapters.db`` opens them and imports it).
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from pymysql.connections import Connection as MySQLConnection

from pipelines.common.tables import quote_mysql
from pipelines.errors import NotOwnedError

__all__ = [
    "DEV_DATABASES",
    "MARKER",
    "OVERRIDE_FLAG",
    "database_owned",
    "mark_database",
    "mark_schema",
    "refusal",
    "require_owned",
    "require_schema_owned",
    "schema_owned",
]

MARKER = "bridge_owned"
OVERRIDE_FLAG = "--i-own-this-database"
_NOTE = "created by the bridge: its seeders, resets and make clean may drop what is in here"
#: The dev stack's own databases (the default URLs and the default metadata prefix), on a loopback host.
DEV_DATABASES = frozenset({"bridge_source", "bridge_warehouse", "bridge_airflow", "bridge_prefect"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", ""})

Connection = MySQLConnection | psycopg.Connection


def _where(conn: Connection) -> tuple[str, str]:
    """(host:port, current database) of an open connection; never a password."""
    if isinstance(conn, MySQLConnection):
        db = conn.db.decode() if isinstance(conn.db, bytes) else str(conn.db or "")
        return f"{conn.host}:{conn.port}", db
    return f"{conn.info.host}:{conn.info.port}", conn.info.dbname


def _dev_name(conn: Connection, database: str) -> bool:
    host = _where(conn)[0].rsplit(":", 1)[0]
    return database in DEV_DATABASES and (host in _LOOPBACK or host.startswith("/"))


def mark_database(conn: Connection, database: str) -> None:
    """Mark ``database`` (just created through ``conn``) as the bridge's own, and commit."""
    if isinstance(conn, MySQLConnection):
        table = f"{quote_mysql(database)}.{MARKER}"
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (note VARCHAR(200) NOT NULL, "
                "created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            )
            cur.execute(f"INSERT INTO {table} (note) VALUES (%s)", (_NOTE,))
        conn.commit()
        return
    comment = sql.Literal(f"{MARKER}: {_NOTE}")
    conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(database), comment))
    conn.commit()


def mark_schema(conn: psycopg.Connection, schema: str) -> None:
    """Mark ``schema`` (created by the bridge) as its own; the caller commits."""
    comment = sql.Literal(f"{MARKER}: {_NOTE}")
    conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(sql.Identifier(schema), comment))


def database_owned(conn: Connection, database: str | None = None) -> bool | None:
    """Whether ``database`` (default: the connection's own) is the bridge's; None when it does not exist."""
    name = database if database is not None else _where(conn)[1]
    if isinstance(conn, MySQLConnection):
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (name,))
            if cur.fetchone() is None:
                return None
            cur.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                (name, MARKER),
            )
            marked = cur.fetchone() is not None
        conn.commit()
    else:
        row = conn.execute(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
        conn.commit()
        if row is None:
            return None
        marked = str(row[0]).startswith(MARKER)
    return marked or _dev_name(conn, name)


def schema_owned(conn: psycopg.Connection, schema: str) -> bool | None:
    """Whether ``schema`` carries the marker; None when it does not exist."""
    row = conn.execute(
        "SELECT coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace WHERE nspname = %s",
        (schema,),
    ).fetchone()
    return None if row is None else str(row[0]).startswith(MARKER)


def refusal(action: str, obj: str, where: str, override: str = "") -> NotOwnedError:
    """The one refusal line: what would be done, to what, where, and how to do it anyway."""
    how = override or f"pass {OVERRIDE_FLAG} to do it anyway"
    return NotOwnedError(
        f"refusing to {action} {obj} on {where}: the bridge did not create it (no {MARKER} marker); {how}"
    )


def require_owned(
    conn: Connection,
    action: str,
    *,
    database: str | None = None,
    override: bool = False,
    override_hint: str = "",
) -> None:
    """Raise ``NotOwnedError`` unless ``database`` (default: the connection's) is the bridge's own, absent,
    or ``override`` is set. ``action`` reads in the line: "drop tables in" -> "refusing to drop tables in
    database 'shop' on 127.0.0.1:3306: ...". Run it before the destructive statement, on its connection."""
    if override:
        return
    host, current = _where(conn)
    name = database if database is not None else current
    if database_owned(conn, name) is False:
        raise refusal(action, f"database {name!r}", host, override_hint)


def require_schema_owned(
    conn: psycopg.Connection, schema: str, action: str = "drop", *, override: bool = False
) -> None:
    """Raise ``NotOwnedError`` unless ``schema`` is absent, marked, in a database of the bridge's own, or
    ``override`` is set."""
    if override or schema_owned(conn, schema) is not False or database_owned(conn):
        return
    host, database = _where(conn)
    raise refusal(action, f"schema {schema!r} in database {database!r}", host)
