"""Helpers the test modules share: the repo's paths, polling, free ports, databases of a test's own.
Fixtures live in conftest.py files."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parents[1]
VENV_PY = REPO / ".venv" / "bin" / "python"


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 1.0) -> Any:
    """Poll ``predicate`` until it returns something truthy (returned), or fail naming ``what``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_for_dags(airflow: object, dag_ids: list[str] | tuple[str, ...], timeout: float = 120.0) -> None:
    """Poll until Airflow has parsed every DAG of ``dag_ids`` (new DAG files appear within seconds)."""
    import time

    from bridge.errors import UnknownWorkflowError

    deadline = time.monotonic() + timeout
    for dag_id in dag_ids:
        while True:
            try:
                airflow.get_workflow(dag_id)  # type: ignore[attr-defined]
                break
            except UnknownWorkflowError:
                assert time.monotonic() < deadline, f"{dag_id} never appeared in Airflow"
                time.sleep(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(base: str, name: str) -> str:
    """``base`` with its database set to ``name``, password kept."""
    from pipelines.adapters import db

    return db.DatabaseUrl.parse(base).with_database(name).render(hide_password=False)


@contextmanager
def own_database(server: Literal["source", "warehouse"], name: str, create: bool = True) -> Iterator[str]:
    """A database ``name`` of the test's own on the source (MariaDB) or warehouse (PostgreSQL) server:
    created first unless ``create`` is false (a seeder creates it), dropped at the end whatever happens."""
    from pipelines.adapters import db

    source = server == "source"
    url = database_url(db.source_url() if source else db.warehouse_url(), name)
    if create:
        (db.ensure_source_database if source else db.ensure_warehouse_database)(url)
    try:
        yield url
    finally:
        (db.drop_source_database if source else db.drop_warehouse_database)(url)


def run_prefect_script(prefect_url: str, script: str) -> None:
    """Run ``script`` (e.g. an extra ``Flow.deploy``) with the repo's venv against the Prefect server at
    ``prefect_url``, from the repo root and with a clean environment; fail with its stderr."""
    proc = subprocess.run(
        [str(VENV_PY), "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        env={"PATH": "/usr/bin:/bin", "PREFECT_API_URL": prefect_url, "HOME": "/root"},
    )
    assert proc.returncode == 0, proc.stderr


def conforms(doc: Any, kind: str) -> Any:
    """``doc`` after checking it against docs/json-schema.json's schema of ``kind`` (list, triggered, run,
    check, error): what --json prints."""
    import json

    from jsonschema import Draft202012Validator

    schema = json.loads((REPO / "docs" / "json-schema.json").read_text())
    Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": schema["$defs"]}).validate(doc)
    return doc


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server (SQS, S3...) of the caller's own on a free port: its URL while the block runs."""
    import os
    import signal

    import requests

    port = free_port()
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{url}/moto-api/", timeout=2).status_code < 500
        except requests.RequestException:
            return False

    try:
        wait_for(up, 30, "the moto server", interval=0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def run_module(module: str, env: dict[str, str]) -> None:
    """``python -m module`` with the repo's venv from the repo root (e.g. a deploy script); fail with its output."""
    proc = subprocess.run(
        [str(VENV_PY), "-m", module], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"{module} failed:\n{proc.stdout}\n{proc.stderr}"
