"""A private stack for a bench, as the test suite's ``stack`` fixture starts one: real Airflow 3, Prefect 3,
their workers and moto on free ports, in a temporary home, with metadata, source and warehouse databases of
its own (``bench_<hex>_*``), every flow deployed. Everything it made is stopped and dropped on exit (also on
Ctrl-C).

    with private_stack() as stack:
        stack.env            # environment for a CLI or ``python -m flows.deploy`` against it
        stack.settings       # the StackSettings (airflow_url, prefect_url, sqs_url, ...)
        stack.source_url     # its MariaDB source, its PostgreSQL warehouse
        stack.warehouse_url
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


@dataclass
class PrivateStack:
    settings: Any
    env: dict[str, str]
    source_url: str
    warehouse_url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log(line: str) -> None:
    print(f"[stack] {line}", file=sys.stderr, flush=True)


@contextmanager
def private_stack(*, airflow_parallelism: int = 4) -> Iterator[PrivateStack]:
    from bridge import devstack
    from bridge.devstack import StackSettings
    from pipelines.adapters import db

    token = f"bench_{secrets.token_hex(4)}"
    source = db.DatabaseUrl.parse(db.source_url()).with_database(f"{token}_src").render(hide_password=False)
    warehouse = (
        db.DatabaseUrl.parse(db.warehouse_url()).with_database(f"{token}_wh").render(hide_password=False)
    )
    data = {"BRIDGE_SOURCE_URL": source, "BRIDGE_WAREHOUSE_URL": warehouse}
    home = Path(tempfile.mkdtemp(prefix=f"{token}-"))
    settings = StackSettings(
        extra_env=tuple(sorted(data.items())),
        home=home,
        airflow_port=_free_port(),
        prefect_port=_free_port(),
        sqs_port=_free_port(),
        db_prefix=token,
        airflow_password=secrets.token_urlsafe(12),
        airflow_parallelism=airflow_parallelism,
    )
    db.ensure_source_database(source)
    db.ensure_warehouse_database(warehouse)
    try:
        devstack.up(settings, say=_log)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AIRFLOW__", "BRIDGE_"))}
        env.update(settings.client_env())
        env.update(data)
        env["BRIDGE_AIRFLOW_PASSWORD"] = settings.airflow_password
        env["PREFECT_HOME"] = str(settings.prefect_home)
        env["PREFECT_API_URL"] = settings.prefect_url
        proc = subprocess.run(
            [sys.executable, "-m", "flows.deploy"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"flows.deploy failed: {proc.stderr.strip().splitlines()[-1:]}")
        yield PrivateStack(settings, env, source, warehouse)
    finally:
        devstack.down(settings, say=lambda line: None)
        devstack.drop_databases(settings)
        db.drop_source_database(source)
        db.drop_warehouse_database(warehouse)
        shutil.rmtree(home, ignore_errors=True)
