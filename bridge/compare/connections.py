"""One side's database session for the table diff: URL parsing, a read-only connection, driver errors.

URLs are SQLAlchemy-style (``dialect[+driver]://user:password@host:port/database?key=value``), parsed with
SQLAlchemy's own ``make_url``; the sessions are plain psycopg 3 (PostgreSQL, Redshift) and pymysql
(MySQL, MariaDB). Every driver error becomes a :class:`~bridge.errors.DatabaseError` naming the side and
the URL without its password; a connection that cannot be made or is lost becomes
:class:`~bridge.errors.DatabaseUnavailableError`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bridge.compare.dialects import DIALECTS, Dialect
from bridge.errors import DatabaseError, DatabaseUnavailableError, UsageError

__all__ = ["Connection", "DatabaseUrl", "connect"]

_SCHEMES = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "redshift": "redshift",
}
_DEFAULT_PORTS = {"mysql": 3306, "postgresql": 5432, "redshift": 5439}
_PG_OPTIONS = re.compile(
    r"^(sslmode|sslrootcert|sslcert|sslkey|application_name|options|target_session_attrs)$"
)


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed URL. ``dialect`` is normalized to mysql, postgresql or redshift (a key of ``DIALECTS``)."""

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
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise UsageError(f"not a database URL: {str(exc).split(' from string')[0]}") from exc
        dialect = _SCHEMES.get(parsed.drivername.partition("+")[0].lower())
        if dialect is None:
            masked = parsed.render_as_string(hide_password=True)
            raise UsageError(f"unsupported database URL scheme {parsed.drivername!r} in {masked}")
        query = tuple((k, v if isinstance(v, str) else v[-1]) for k, v in parsed.query.items())
        return cls(
            dialect=dialect,
            driver=parsed.drivername.partition("+")[2] or None,
            username=parsed.username,
            password=parsed.password if parsed.password is None else str(parsed.password),
            host=parsed.host or "127.0.0.1",
            port=parsed.port or _DEFAULT_PORTS[dialect],
            database=parsed.database or "",
            query=query,
        )

    @property
    def postgres_wire(self) -> bool:
        """True for PostgreSQL and Redshift (both reached through psycopg)."""
        return self.dialect in ("postgresql", "redshift")

    def render(self) -> str:
        """The URL as error messages show it: the password replaced by ``***``."""
        scheme = self.dialect + (f"+{self.driver}" if self.driver else "")
        auth = ""
        if self.username:
            auth = quote(self.username, safe="") + (":***" if self.password is not None else "") + "@"
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{scheme}://{auth}{self.host}:{self.port}/{quote(self.database)}" + (
            f"?{query}" if query else ""
        )


class Connection:
    """One side's open database session: runs queries, counts them, turns driver errors into ours.

    ``label`` (``airflow`` / ``prefect``) and ``where`` (the URL without its password) name the side
    in every error message."""

    def __init__(self, raw: Any, dialect: Dialect, label: str, where: str, secret: str | None) -> None:
        self.raw = raw
        self.dialect = dialect
        self.label = label
        self.where = where
        self.secret = secret
        self.queries = 0

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.queries += 1
        try:
            with self.raw.cursor() as cur:
                cur.execute(sql, tuple(params))  # always a tuple: '%%' in the SQL means '%'
                return [tuple(row) for row in cur.fetchall()]
        except Exception as exc:
            raise self.translate(exc, "query failed") from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement that returns no rows (a writable session's); its row count."""
        self.queries += 1
        try:
            with self.raw.cursor() as cur:
                cur.execute(sql, tuple(params))
                return int(cur.rowcount or 0)
        except Exception as exc:
            raise self.translate(exc, "statement failed") from exc

    def commit(self) -> None:
        try:
            self.raw.commit()
        except Exception as exc:
            raise self.translate(exc, "commit failed") from exc

    def translate(self, exc: Exception, what: str) -> DatabaseError:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if self.secret and len(self.secret) >= 3:
            message = message.replace(self.secret, "***")
        text = f"{self.label} database {self.where}: {what}: {message}"
        lost = type(exc).__name__ in ("OperationalError", "InterfaceError")
        return (DatabaseUnavailableError if lost else DatabaseError)(text, backend=self.label)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.raw.rollback()  # read only: nothing to keep
        self.raw.close()


def _open(parsed: DatabaseUrl, connect_timeout: int, writable: bool = False) -> Any:
    """The driver's connection: psycopg for the PostgreSQL wire protocol, pymysql for MySQL/MariaDB."""
    if parsed.postgres_wire:
        import psycopg

        options: dict[str, Any] = {k: v for k, v in parsed.query if _PG_OPTIONS.match(k)}
        conn = psycopg.connect(
            host=parsed.host,
            port=parsed.port,
            user=parsed.username,
            password=parsed.password,
            dbname=parsed.database or None,
            connect_timeout=connect_timeout,
            **options,
        )
        if parsed.dialect == "postgresql" and not writable:  # one snapshot for every pass
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
        return conn
    import pymysql

    return pymysql.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=parsed.database or None,
        charset="utf8mb4",
        autocommit=False,
        connect_timeout=connect_timeout,
    )


def connect(url: str, label: str, *, connect_timeout: int = 10, writable: bool = False) -> Connection:
    """Open a read-only session on ``url`` (SQLAlchemy-style) set up for canonical rendering; ``writable``
    for the few writes the bridge makes to its own targets (copying start state), committed by the caller."""
    try:
        parsed = DatabaseUrl.parse(url)
    except UsageError as exc:
        raise UsageError(f"{label} table: {exc}") from exc
    dialect = DIALECTS[parsed.dialect]()
    where = parsed.render()
    probe = Connection(None, dialect, label, where, parsed.password)
    try:
        raw = _open(parsed, connect_timeout, writable)
    except Exception as exc:
        error = probe.translate(exc, "cannot connect")
        raise DatabaseUnavailableError(str(error), backend=label) from exc
    conn = Connection(raw, dialect, label, where, parsed.password)
    try:
        for statement in dialect.session_sql():
            with raw.cursor() as cur:
                cur.execute(statement)
    except Exception as exc:
        conn.close()
        raise conn.translate(exc, "session setup failed") from exc
    return conn
