"""Metadata databases for the stack: a PostgreSQL database of its own when one is reachable, else SQLite."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _with_db(url: str, dbname: str, scheme: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, "/" + dbname, parts.query, ""))


def postgres_reachable(admin_url: str | None) -> bool:
    if not admin_url:
        return False
    import psycopg

    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def ensure_database(admin_url: str, dbname: str) -> None:
    """CREATE DATABASE dbname if it does not exist yet, marked as the bridge's own (its comment)."""
    import psycopg
    from psycopg import sql

    from pipelines.adapters import ownership

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            ownership.mark_database(conn, dbname)


def drop_database(
    admin_url: str, dbname: str, *, i_own_this_database: bool = False, override_hint: str = ""
) -> None:
    """DROP DATABASE dbname if it exists: only one the bridge marked as its own (or the dev stack's default
    names), else a UsageError naming it and ``override_hint`` (default: pass --i-own-this-database)."""
    import psycopg
    from psycopg import sql

    from bridge.errors import UsageError
    from pipelines.adapters import ownership
    from pipelines.errors import NotOwnedError

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        try:
            ownership.require_owned(
                conn, "drop", database=dbname, override=i_own_this_database, override_hint=override_hint
            )
        except NotOwnedError as exc:
            raise UsageError(str(exc)) from exc
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def metadata_urls(admin_url: str | None, prefix: str, home: Path) -> dict[str, str]:
    """SQLAlchemy URLs for Airflow's and Prefect's metadata, creating the databases if needed."""
    if postgres_reachable(admin_url):
        assert admin_url is not None
        urls = {}
        for system, scheme in (("airflow", "postgresql+psycopg2"), ("prefect", "postgresql+asyncpg")):
            name = f"{prefix}_{system}"
            ensure_database(admin_url, name)
            urls[system] = _with_db(admin_url, name, scheme)
        return urls
    home.mkdir(parents=True, exist_ok=True)
    return {
        "airflow": f"sqlite:///{home / 'airflow' / 'airflow.db'}",
        "prefect": f"sqlite+aiosqlite:///{home / 'prefect' / 'prefect.db'}",
    }
