"""The fault matrix's private stack: its own ports, home, metadata and data databases, started and
stopped with the library the test fixtures use (``bridge.devstack`` + ``StackSettings``). It never touches
a dev stack on the default ports or another test run, and everything it made goes on exit, Ctrl-C too."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers import REPO, database_url, free_port
from tests.zoo import DAGS as ZOO_DAGS

DAGS = Path(__file__).resolve().parent / "airflow_dags"
# Tokens short enough to expire during a wait (the bridge must renew on 401); tasks that outlive an
# api-server restart, and a scheduler that finds an orphaned task in 3 minutes rather than 5.
AIRFLOW_ENV = {
    "AIRFLOW__API_AUTH__JWT_EXPIRATION_TIME": "15",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "180",  # longer than an api-server restart
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "5",
    # A task's supervisor kills it after this many failed heartbeats to the api-server (Airflow's default
    # 3: about 15 s). 60 (about 5 minutes) lets a running task outlive an api-server restart here.
    "AIRFLOW__WORKERS__MAX_FAILED_HEARTBEATS": "60",
}


# The Prefect deployments the rows use: hello_bridge's, and zoo-minutely (paused) for the watcher's row.
DEPLOY = """
from flows.deploy import deploy_one, ensure_work_pool, main
from tests.zoo.flows import MINUTELY
assert main(["--only", "hello-bridge/hello_bridge"]) == 0
ensure_work_pool(MINUTELY.work_pool)
deploy_one(MINUTELY, paused=True)
"""


@dataclass
class Private:
    """The private stack and what the rows need: its settings, a CLI environment, the data databases,
    a scratch folder, and cleanups the rows register (their queues, databases)."""

    settings: Any
    token: str
    source_url: str
    warehouse_url: str
    scratch: Path
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a CLI (bridge, trigger_script.py) that talks to the private stack only."""
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AIRFLOW__", "BRIDGE_"))}
        env.update(s.client_env())
        env.update(dict(s.extra_env))
        env["BRIDGE_HOME"] = str(s.home)
        env["BRIDGE_AIRFLOW_PASSWORD"] = s.airflow_password
        env["PREFECT_HOME"] = str(s.prefect_home)
        env["PYTHONPATH"] = str(REPO)
        env.update(extra)
        return env

    def name(self, what: str) -> str:
        """A name of this run's own (a queue, a database, a target)."""
        return f"f{self.token}_{what}"


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def private_stack(say: Callable[[str], None]) -> Iterator[Private]:
    """Start the private stack, yield it, tear it all down (SIGTERM and Ctrl-C too; a second Ctrl-C
    during teardown is ignored so the teardown finishes)."""
    from bridge import devstack
    from bridge.devstack import StackSettings
    from pipelines.adapters import db

    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    token = secrets.token_hex(3)
    home = Path(tempfile.mkdtemp(prefix=f"bridge-faults-{token}-"))
    prefix = f"bridge_f{token}"
    source = database_url(db.source_url(), f"{prefix}_src")
    warehouse = database_url(db.warehouse_url(), f"{prefix}_wh")
    settings = StackSettings(
        extra_env=tuple(
            sorted({"BRIDGE_SOURCE_URL": source, "BRIDGE_WAREHOUSE_URL": warehouse, **AIRFLOW_ENV}.items())
        ),
        home=home / "home",
        airflow_port=free_port(),
        prefect_port=free_port(),
        sqs_port=free_port(),
        db_prefix=prefix,
        airflow_password=secrets.token_urlsafe(12),
        extra_dag_folders=(DAGS, ZOO_DAGS),  # the zoo for zoo_minutely (the watcher's row)
    )
    private = Private(settings, token, source, warehouse, home / "scratch")
    private.scratch.mkdir(parents=True)
    try:
        db.ensure_source_database(source)
        db.ensure_warehouse_database(warehouse)
        say(
            f"private stack {prefix}: airflow :{settings.airflow_port}, prefect :{settings.prefect_port}, sqs :{settings.sqs_port}, home {home}"
        )
        devstack.up(settings, say=lambda line: say(f"[stack] {line}"))
        env = {**private.env(), "PREFECT_API_URL": settings.prefect_url}
        deployed = subprocess.run(
            [sys.executable, "-c", DEPLOY], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
        if deployed.returncode != 0:  # its output only when it failed: the table stays alone on stdout
            raise RuntimeError(f"deploying the rows' flows failed: {deployed.stderr.strip()[-500:]}")
        yield private
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        say(f"tearing down {prefix}")
        for cleanup in reversed(private.cleanups):
            with suppress(Exception):
                cleanup()
        with suppress(Exception):
            devstack.down(settings, say=lambda line: None)
        with suppress(Exception):
            devstack.drop_databases(settings)
        for drop, url in ((db.drop_source_database, source), (db.drop_warehouse_database, warehouse)):
            with suppress(Exception):
                drop(url)
        shutil.rmtree(home, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print(f"torn down {prefix}", file=sys.stderr)
