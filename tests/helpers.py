"""Helpers the test modules share: the repo's paths, polling, free ports. Fixtures live in conftest.py."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
