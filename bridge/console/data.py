"""parity and seed: schedules compared across both sides; sources filled with deterministic data."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from bridge.console.common import Options, backends_for


def parity(dag_id: str, n: int, opts: Options, out: IO[str] = sys.stdout) -> None:
    """Print the next ``n`` fire times on both sides in UTC and the verdict; exit 1 unless equal."""
    from bridge import parity as parity_mod

    result = parity_mod.check(backends_for(opts), dag_id, n)
    if opts.as_json:
        json.dump(
            {
                "workflow": dag_id,
                "verdict": result.verdict,
                "explanation": result.explanation,
                "offset_s": result.offset.total_seconds() if result.offset else None,
                "airflow": [t.isoformat() for t in result.airflow],
                "prefect": [t.isoformat() for t in result.prefect],
            },
            out,
            indent=2,
        )
        out.write("\n")
    else:
        out.write(f"{'AIRFLOW (UTC)':<27}{'PREFECT (UTC)':<27}\n")
        for a, p in zip(result.airflow, result.prefect, strict=False):
            out.write(f"{a.isoformat():<27}{p.isoformat():<27}{'' if a == p else 'differs'}\n")
        out.write(f"{dag_id}: {result.verdict}: {result.explanation}\n")
    if not result.equal:
        from bridge.errors import ScheduleMismatchError

        raise ScheduleMismatchError(f"{dag_id}: the schedules differ ({result.verdict})")


def seed_products(
    rows: int,
    seed: int,
    url: str | None,
    out: IO[str] = sys.stdout,
    *,
    i_own_this_database: bool = False,
) -> None:
    """Fill the source database with the deterministic products catalogue (only one the bridge created,
    unless ``i_own_this_database``)."""
    from devkit.catalog_seed import seed_products as fill
    from pipelines.adapters import db

    target = url or db.source_url()
    where = source_place(target)
    with database_errors(where):
        db.ensure_source_database(target)
        summary = fill(target, rows, seed, i_own_this_database=i_own_this_database)
    out.write(f"seeded {where} with seed {seed}: {json.dumps(summary, default=str, sort_keys=True)}\n")


def source_place(url: str) -> str:
    """The source URL as lines show it (no password); one that cannot be parsed is a UsageError (exit 2),
    before anything is touched."""
    from pipelines.adapters import db

    with database_errors("the source URL (--url or BRIDGE_SOURCE_URL)"):
        return db.DatabaseUrl.parse(url).render()


def seed_etl(
    rows: int,
    seed: int,
    orders: int | None,
    url: str | None,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
    *,
    i_own_this_database: bool = False,
) -> None:
    """Fill the source with products, categories, promotions, orders and order items (scenario 3); only
    in a database the bridge created, unless ``i_own_this_database``."""
    from devkit.etl_seed import seed_etl as fill
    from pipelines.adapters import db

    target = url or db.source_url()
    where = source_place(target)
    last = [0.0]

    def progress(table: str, done: int) -> None:
        import time

        if time.monotonic() - last[0] > 5:
            err.write(f"seeding {table}: {done} rows\n")
            last[0] = time.monotonic()

    with database_errors(where):
        summary = fill(
            target, rows, seed, orders=orders, progress=progress, i_own_this_database=i_own_this_database
        )
    out.write(f"seeded {where} with seed {seed}: {json.dumps(summary, default=str, sort_keys=True)}\n")


@contextmanager
def database_errors(where: str) -> Iterator[None]:
    """A database or broker error becomes one BridgeError line naming the (password-free) place; a refusal
    to touch a database the bridge did not create is its own line (exit 2)."""
    import psycopg
    import pymysql

    from bridge.errors import DatabaseUnavailableError, UsageError
    from pipelines.errors import NotOwnedError

    try:
        yield
    except NotOwnedError as exc:
        raise UsageError(str(exc)) from exc
    except (pymysql.err.OperationalError, psycopg.OperationalError, ConnectionError) as exc:
        raise DatabaseUnavailableError(f"cannot use {where}: {str(exc).splitlines()[0]}") from exc
    except (pymysql.err.MySQLError, psycopg.Error, ValueError) as exc:
        raise UsageError(f"{where}: {str(exc).splitlines()[0]}") from exc


def seed_queue(
    broker: str,
    count: int,
    seed: int,
    targets: tuple[str, ...],
    stream: str,
    poison: int,
    malformed: int,
    out: IO[str] = sys.stdout,
) -> None:
    """Publish deterministic order events to every target's queue of ``stream`` (scenario 2)."""
    from bridge.devstack import StackSettings
    from devkit.producer import publish_orders

    url = StackSettings.from_env().sqs_url if broker == "sqs" else None
    with database_errors(f"{broker} stream {stream}"):
        summary = publish_orders(
            broker,
            count,
            seed,
            targets=targets or ("warehouse",),
            stream=stream,
            poison=poison,
            malformed=malformed,
            url=url,
        )
    out.write(f"published to {broker}: {json.dumps(summary, default=str, sort_keys=True)}\n")
