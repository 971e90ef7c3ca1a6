"""No data at risk: seeders, the demo's resets and the stack's teardown touch only what the bridge created.

Each test makes databases of its own (random names) the way a user's would exist: created by hand, WITHOUT
the bridge's marker, holding a table that must survive. The bridge must refuse them in one line naming the
database and the override, exit 2, no traceback, and leave the table as it was; the override must work; a
database the bridge creates must be marked as its own. Everything is dropped in a ``finally``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pymysql
import pytest
from psycopg import sql

from bridge import demo
from bridge.devstack import databases
from bridge.devstack.settings import StackSettings
from bridge.errors import UsageError
from pipelines.adapters import db, ownership
from pipelines.errors import NotOwnedError
from tests.helpers import REPO, VENV_PY, database_url

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.mariadb]

BRIDGE = REPO / ".venv" / "bin" / "bridge"
TOKEN = secrets.token_hex(3)
SOURCE = db.DatabaseUrl.parse(db.source_url())
WAREHOUSE = db.DatabaseUrl.parse(db.warehouse_url())
ADMIN = StackSettings().postgres_url or "postgresql://postgres@127.0.0.1:5432/postgres"


def refusal(
    action: str, obj: str, where: str, how: str = "pass --i-own-this-database to do it anyway"
) -> str:
    return (
        f"refusing to {action} {obj} on {where}: the bridge did not create it (no bridge_owned marker); {how}"
    )


def mysql(sql_text: str, *params: object) -> list[tuple[object, ...]]:
    conn = pymysql.connect(
        host=SOURCE.host, port=SOURCE.port, user=SOURCE.username or "root", password=SOURCE.password or ""
    )
    try:
        with conn.cursor() as cur:
            cur.execute(sql_text, params)  # always formatted: '%%' is '%'
            rows = list(cur.fetchall())
        conn.commit()
        return rows
    finally:
        conn.close()


def pg(dbname: str, query: str | sql.Composable, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(
        db.DatabaseUrl.parse(ADMIN).with_database(dbname).render(hide_password=False), autocommit=True
    ) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def pg_exists(name: str) -> bool:
    return bool(pg("postgres", "SELECT 1 FROM pg_database WHERE datname = %s", (name,)))


@contextmanager
def foreign_source() -> Iterator[str]:
    """A MariaDB database made by hand (no marker) with a ``products`` table holding one precious row."""
    name = f"shop_t{TOKEN}{secrets.token_hex(2)}"
    mysql(f"CREATE DATABASE `{name}`")
    try:
        mysql(f"CREATE TABLE `{name}`.products (id INT PRIMARY KEY, name VARCHAR(40))")
        mysql(f"INSERT INTO `{name}`.products VALUES (1, 'precious')")
        yield name
    finally:
        mysql(f"DROP DATABASE IF EXISTS `{name}`")


@contextmanager
def foreign_warehouse() -> Iterator[str]:
    """A PostgreSQL database made by hand (no marker) with schema ``demo_cron`` holding one precious row."""
    name = f"dwh_t{TOKEN}{secrets.token_hex(2)}"
    pg("postgres", sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        pg(name, "CREATE SCHEMA demo_cron")
        pg(name, "CREATE TABLE demo_cron.keep (id int)")
        pg(name, "INSERT INTO demo_cron.keep VALUES (1)")
        yield name
    finally:
        pg("postgres", sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def precious(name: str) -> list[tuple[object, ...]]:
    return mysql(f"SELECT id, name FROM `{name}`.products ORDER BY id")


def run_bridge(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BRIDGE), *args], capture_output=True, text=True, timeout=300, cwd=REPO, env=env
    )


# -- the seeders ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["products", "etl"])
def test_seed_refuses_a_database_the_bridge_did_not_create(what: str) -> None:
    with foreign_source() as name:
        user, password = f"bridge_t{TOKEN}", secrets.token_hex(8)
        mysql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", password)
        try:
            mysql(f"GRANT ALL ON `{name}`.* TO '{user}'@'%%'")
            url = replace(SOURCE.with_database(name), username=user, password=password)
            proc = run_bridge("seed", what, "--rows", "20", "--url", url.render(hide_password=False))
        finally:
            mysql(f"DROP USER '{user}'@'%%'")
        where = f"{SOURCE.host}:{SOURCE.port}"
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.splitlines() == [
            "bridge: " + refusal("drop and recreate tables in", f"database {name!r}", where)
        ]
        assert "Traceback" not in proc.stderr and password not in proc.stderr + proc.stdout
        assert precious(name) == [(1, "precious")]
        assert not mysql(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'orders'", name
        )


def test_the_override_seeds_it_anyway_without_marking_it() -> None:
    with foreign_source() as name:
        url = database_url(db.source_url(), name)
        proc = run_bridge("seed", "products", "--rows", "20", "--url", url, "--i-own-this-database")
        assert proc.returncode == 0, proc.stderr
        assert mysql(f"SELECT COUNT(*) FROM `{name}`.products") == [(20,)]
        with db.source_connection(url) as conn:
            assert ownership.database_owned(conn) is False  # the override is asked for every time
        with pytest.raises(NotOwnedError):
            db.drop_source_database(url)
        db.drop_source_database(url, i_own_this_database=True)
        assert not mysql("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", name)


def test_a_database_the_bridge_creates_is_marked_and_seedable() -> None:
    name = f"bridge_t{TOKEN}_new"
    url = database_url(db.source_url(), name)
    try:
        proc = run_bridge("seed", "products", "--rows", "15", "--url", url)
        assert proc.returncode == 0, proc.stderr
        assert mysql(f"SELECT note FROM `{name}`.bridge_owned")  # the marker, written on creation
        assert mysql(f"SELECT COUNT(*) FROM `{name}`.products") == [(15,)]
        assert run_bridge("seed", "etl", "--rows", "10", "--url", url).returncode == 0  # reseeding: fine
    finally:
        db.drop_source_database(url)
    assert not mysql("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", name)


def test_ensure_does_not_adopt_an_existing_database() -> None:
    with foreign_source() as name:
        url = database_url(db.source_url(), name)
        assert db.ensure_source_database(url) == name
        with db.source_connection(url) as conn, pytest.raises(NotOwnedError):
            ownership.require_owned(conn, "drop tables in")
    with foreign_warehouse() as name:
        url = database_url(db.warehouse_url(), name)
        assert db.ensure_warehouse_database(url) == name
        with pytest.raises(NotOwnedError, match=f"refusing to drop database '{name}'"):
            db.drop_warehouse_database(url)
        assert pg(name, "SELECT id FROM demo_cron.keep") == [(1,)]


# -- the demo -----------------------------------------------------------------------------------------------


def fake_catalog(warehouse_url: str) -> SimpleNamespace:
    shadow = SimpleNamespace(shadow_target=lambda target: f"{target}_shadow")
    return SimpleNamespace(warehouse_url=warehouse_url, entry=lambda dag_id: SimpleNamespace(shadow=shadow))


def schemas(dbname: str) -> dict[str, str]:
    rows = pg(
        dbname,
        "SELECT nspname, coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace "
        "WHERE nspname LIKE 'demo%%'",
    )
    return {str(n): str(c) for n, c in rows}


def test_demo_reset_refuses_a_schema_the_bridge_did_not_create() -> None:
    with foreign_warehouse() as name:
        catalog = fake_catalog(database_url(db.warehouse_url(), name))
        with pytest.raises(NotOwnedError) as refused:
            demo.reset_targets(catalog, lambda line: None)
        where = f"{WAREHOUSE.host}:{WAREHOUSE.port}"
        assert str(refused.value) == refusal("drop", f"schema 'demo_cron' in database {name!r}", where)
        assert pg(name, "SELECT id FROM demo_cron.keep") == [(1,)]
        assert set(schemas(name)) == {"demo_cron"}  # checked before anything was dropped or created

        demo.reset_targets(catalog, lambda line: None, i_own_this_database=True)
        found = schemas(name)
        assert "demo_etl_shadow" in found and not pg(
            name, "SELECT 1 FROM pg_tables WHERE schemaname = 'demo_cron'"
        )
        # recreated marked: the next demo may reset them without the flag
        assert all(comment.startswith("bridge_owned") for comment in found.values()), found
        demo.reset_targets(catalog, lambda line: None)


def test_demo_reset_in_the_bridges_own_warehouse_just_drops() -> None:
    name = f"bridge_t{TOKEN}_wh"
    url = database_url(db.warehouse_url(), name)
    db.ensure_warehouse_database(url)
    try:
        assert str(
            pg(
                "postgres",
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                (name,),
            )[0][0]
        ).startswith("bridge_owned")
        pg(name, "CREATE SCHEMA demo_cron")
        pg(name, "CREATE TABLE demo_cron.t (id int)")
        demo.reset_targets(fake_catalog(url), lambda line: None)
        assert schemas(name) == {}
    finally:
        db.drop_warehouse_database(url)
    assert not pg_exists(name)


def test_demo_seed_refuses_a_foreign_source(monkeypatch: pytest.MonkeyPatch) -> None:
    with foreign_source() as name:
        warehouse = database_url(db.warehouse_url(), f"bridge_t{TOKEN}_dwh")
        monkeypatch.setenv("BRIDGE_SOURCE_URL", database_url(db.source_url(), name))
        monkeypatch.setenv("BRIDGE_WAREHOUSE_URL", warehouse)
        try:
            with pytest.raises(NotOwnedError, match=f"database '{name}'.*--i-own-this-database"):
                demo.seed_sources(lambda line: None)
        finally:
            db.drop_warehouse_database(warehouse)
        assert precious(name) == [(1, "precious")]


# -- the dev stack's metadata databases (make clean) ---------------------------------------------------------


def test_stack_databases_are_marked_and_only_those_dropped(tmp_path: Path) -> None:
    prefix = f"bridge_t{TOKEN}_stack"
    mine, theirs = f"{prefix}_prefect", f"{prefix}_airflow"
    databases.ensure_database(ADMIN, mine)
    pg("postgres", sql.SQL("CREATE DATABASE {}").format(sql.Identifier(theirs)))
    try:
        with pytest.raises(UsageError, match=f"refusing to drop database '{theirs}'"):
            databases.drop_database(ADMIN, theirs)
        (tmp_path / "stack.json").write_text(json.dumps({"db_prefix": prefix}))
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
        env |= {"BRIDGE_HOME": str(tmp_path), "BRIDGE_DEV_POSTGRES_URL": ADMIN}
        clean = [str(VENV_PY), "-m", "bridge.devstack.clean"]
        proc = subprocess.run(clean, capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
        where = f"{db.DatabaseUrl.parse(ADMIN).host}:{db.DatabaseUrl.parse(ADMIN).port}"
        how = "make clean I_OWN_THIS_DATABASE=1 drops it anyway"
        assert proc.returncode == 2
        assert proc.stderr.splitlines() == [
            "make clean: " + refusal("drop", f"database {theirs!r}", where, how)
        ]
        assert pg_exists(theirs) and pg_exists(mine)

        proc = subprocess.run(
            [*clean, "--i-own-this-database"], capture_output=True, text=True, env=env, cwd=REPO, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        assert not pg_exists(theirs) and not pg_exists(mine)
    finally:
        for name in (mine, theirs):
            pg("postgres", sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
