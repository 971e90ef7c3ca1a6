"""`bridge dev up | status | down` as a person runs them: a failing service is named, up is idempotent,
and down leaves no process of ours behind."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
from pathlib import Path

import pytest

from bridge.devstack import StackSettings
from bridge.devstack.process import group_members
from tests.helpers import REPO, free_port

# `bridge dev up` starts its own stack (metadata in PostgreSQL when one answers).
pytestmark = [pytest.mark.airflow, pytest.mark.prefect, pytest.mark.sqs, pytest.mark.postgres]

BRIDGE = str(REPO / ".venv" / "bin" / "bridge")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BRIDGE, *args], env=env, capture_output=True, text=True, timeout=400)


def test_up_names_a_failing_service_then_up_status_down(tmp_path: Path) -> None:
    settings = StackSettings(
        home=tmp_path / "home",
        airflow_port=free_port(),
        prefect_port=free_port(),
        sqs_port=free_port(),
        dashboard_port=free_port(),
        db_prefix=f"bridge_e{secrets.token_hex(4)}",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AIRFLOW__", "BRIDGE_"))}
    env.update(settings.env())
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", settings.prefect_port))
    blocker.listen()
    try:
        failed = _run(["dev", "up"], env)
        assert failed.returncode == 3
        assert "prefect-server did not start" in failed.stderr
        assert str(settings.log_dir / "prefect-server.log") in failed.stderr
        assert "Traceback" not in failed.stderr
        blocker.close()

        ok = _run(["dev", "up"], env)
        assert ok.returncode == 0, ok.stderr
        assert "airflow-api-server: already running" in ok.stderr  # started by the first call, not restarted
        status = _run(["dev", "status"], env)
        assert status.returncode == 0, status.stdout
        assert status.stdout.count("healthy") >= 9
        pgids = [json.loads(p.read_text())["pgid"] for p in settings.run_dir.glob("*.pid")]
        assert len(pgids) == 9  # 8 services and the dashboard
    finally:
        blocker.close()
        down = _run(["dev", "down"], env)
        from bridge.devstack import drop_databases

        drop_databases(settings)
    assert down.returncode == 0, down.stderr
    assert [pg for pg in pgids if group_members(pg)] == []
    for port in (settings.airflow_port, settings.prefect_port, settings.sqs_port, settings.dashboard_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
    after = _run(["dev", "status"], env)
    assert after.returncode == 3
