"""Database URLs and connections for the source (MySQL/MariaDB) and the warehouse (PostgreSQL/Redshift).

URLs are SQLAlchemy-style (``dialect[+driver]://user:password@host:port/database?key=value``) and are
read from the environment, but the connections are plain pymysql and psycopg 3: the pipelines move rows,
they need no ORM. ``redshift://`` and ``redshift+<driver>://`` URLs speak the PostgreSQL wire protocol
and get a psycopg connection too.

Every pipeline function accepts, for ``source`` and ``warehouse``, either an open connection (used as
is, never closed, but committed), a URL string, or ``None`` (the URL from the environment).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import psycopg
import pymysql
from psycopg import sql
from pymysql.connections import Connection as MySQLConnection

from pipelines.adapters import ownership
from pipelines.common.tables import quote_mysql
from pipelines.errors import DatabaseUrlError

SOURCE_URL_ENV = "BRIDGE_SOURCE_URL"
WAREHOUSE_URL_ENV = "BRIDGE_WAREHOUSE_URL"
DEFAULT_SOURCE_URL = "mysql+pymysql://root@127.0.0.1:3306/bridge_source"
DEFAULT_WAREHOUSE_URL = "postgresql://postgres@127.0.0.1:5432/bridge_warehouse"

_DIALECTS = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "redshift": "redshift",
}
_DEFAULT_PORTS = {"mysql": 3306, "postgresql": 5432, "redshift": 5439}
# Where CREATE DATABASE is issued from when the warehouse database does not exist yet.
_MAINTENANCE_DB = {"postgresql": "postgres", "redshift": "dev"}

SourceLike = MySQLConnection | str | None
WarehouseLike = psycopg.Connection | str | None


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed SQLAlchemy-style URL. ``dialect`` is normalized to mysql, postgresql or redshift."""

    dialect: str
    driver: str | None
    username: str | None
    password: str | None
    host: str
    port: int
    database: str
    query: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        parts = urlsplit(url)
        name, _, driver = parts.scheme.partition("+")
        dialect = _DIALECTS.get(name.lower())
        if dialect is None:
            raise DatabaseUrlError(f"unsupported database URL scheme {parts.scheme!r} in {_mask(url)}")
        return cls(
            dialect=dialect,
            driver=driver or None,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            host=parts.hostname or "127.0.0.1",
            port=parts.port or _DEFAULT_PORTS[dialect],
            database=unquote(parts.path.lstrip("/")),
            query=tuple(parse_qsl(parts.query)),
        )

    @property
    def postgres_wire(self) -> bool:
        """True for PostgreSQL and Redshift (both reached through psycopg)."""
        return self.dialect in ("postgresql", "redshift")

    def with_database(self, database: str) -> DatabaseUrl:
        return replace(self, database=database)

    def render(self, *, hide_password: bool = True) -> str:
        """The URL as text; the password is replaced by ``***`` unless asked otherwise."""
        scheme = self.dialect + (f"+{self.driver}" if self.driver else "")
        auth = ""
        if self.username:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + ("***" if hide_password else quote(self.password, safe=""))
            auth += "@"
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{scheme}://{auth}{self.host}:{self.port}/{quote(self.database)}" + (
            f"?{query}" if query else ""
        )


def _mask(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def source_url() -> str:
    """The source URL: ``$BRIDGE_SOURCE_URL`` or the local MariaDB default."""
    return os.environ.get(SOURCE_URL_ENV) or DEFAULT_SOURCE_URL


def warehouse_url() -> str:
    """The warehouse URL: ``$BRIDGE_WAREHOUSE_URL`` or the local PostgreSQL default."""
    return os.environ.get(WAREHOUSE_URL_ENV) or DEFAULT_WAREHOUSE_URL


def _source(url: str | None) -> DatabaseUrl:
    parsed = DatabaseUrl.parse(url or source_url())
    if parsed.dialect != "mysql":
        raise DatabaseUrlError(f"the source must be a mysql:// URL, got {parsed.render()}")
    return parsed


def _warehouse(url: str | None) -> DatabaseUrl:
    parsed = DatabaseUrl.parse(url or warehouse_url())
    if not parsed.postgres_wire:
        raise DatabaseUrlError(
            f"the warehouse must be a postgresql:// or redshift:// URL, got {parsed.render()}"
        )
    return parsed


def _require_database(parsed: DatabaseUrl) -> str:
    if not parsed.database:
        raise DatabaseUrlError(f"no database name in {parsed.render()}")
    return parsed.database


def connect_source(url: str | None = None, *, use_database: bool = True, **options: Any) -> MySQLConnection:
    """Open a pymysql connection (utf8mb4, autocommit off) to the source database; ``options`` go to
    ``pymysql.connect`` as they are (e.g. ``local_infile``, ``cursorclass``)."""
    parsed = _source(url)
    return pymysql.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=_require_database(parsed) if use_database else None,
        charset=dict(parsed.query).get("charset", "utf8mb4"),
        autocommit=False,
        **options,
    )


def connect_warehouse(url: str | None = None, *, database: str | None = None) -> psycopg.Connection:
    """Open a psycopg 3 connection (autocommit off) to the warehouse; URL query keys go to libpq."""
    parsed = _warehouse(url)
    return psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=database or _require_database(parsed),
        **dict(parsed.query),  # type: ignore[arg-type]  # libpq options, as strings
    )


@contextmanager
def source_connection(source: SourceLike) -> Iterator[MySQLConnection]:
    """Yield ``source`` if it is a connection, else open one from the URL (or env) and close it after."""
    if isinstance(source, MySQLConnection):
        yield source
        return
    conn = connect_source(source)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def warehouse_connection(warehouse: WarehouseLike) -> Iterator[psycopg.Connection]:
    """Yield ``warehouse`` if it is a connection, else open one from the URL (or env) and close it after."""
    if isinstance(warehouse, psycopg.Connection):
        yield warehouse
        return
    conn = connect_warehouse(warehouse)
    try:
        yield conn
    finally:
        conn.close()


def ensure_source_database(url: str | None = None) -> str:
    """Create the source database (utf8mb4) if it does not exist; return its name. A database created
    here is marked as the bridge's own (``pipelines.adapters.ownership``), one that existed is left as is."""
    name = _require_database(_source(url))
    conn = connect_source(url, use_database=False)
    try:
        with conn.cursor() as cur:
            created = cur.execute(
                f"CREATE DATABASE IF NOT EXISTS {quote_mysql(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )
        conn.commit()
        if created:  # 1 row affected: this call created it (0 and a warning when it existed)
            ownership.mark_database(conn, name)
    finally:
        conn.close()
    return name


def drop_source_database(url: str, *, i_own_this_database: bool = False) -> None:
    """Drop the source database if it exists (test teardown); only the bridge's own unless overridden."""
    name = _require_database(_source(url))
    conn = connect_source(url, use_database=False)
    try:
        ownership.require_owned(conn, "drop", database=name, override=i_own_this_database)
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quote_mysql(name)}")
        conn.commit()
    finally:
        conn.close()


def ensure_warehouse_database(url: str | None = None) -> str:
    """Create the warehouse database if it does not exist, marked as the bridge's own; return its name.

    Only when the database is missing, connects to the maintenance database (``postgres``; ``dev`` on
    Redshift) to create it.
    """
    parsed = _warehouse(url)
    name = _require_database(parsed)
    try:
        connect_warehouse(url).close()
        return name  # it exists: no need for the maintenance database
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    with connect_warehouse(url, database=_MAINTENANCE_DB[parsed.dialect]) as conn:
        conn.autocommit = True
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:  # created concurrently: its creator marks it
            return name
        ownership.mark_database(conn, name)
    return name


def drop_warehouse_database(url: str, *, i_own_this_database: bool = False) -> None:
    """Drop the warehouse database if it exists, closing its sessions (PostgreSQL >= 13; test teardown);
    only the bridge's own unless overridden."""
    parsed = _warehouse(url)
    name = _require_database(parsed)
    with connect_warehouse(url, database=_MAINTENANCE_DB[parsed.dialect]) as conn:
        conn.autocommit = True
        ownership.require_owned(conn, "drop", database=name, override=i_own_this_database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
