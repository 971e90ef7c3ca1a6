"""trigger_script.py --shadow as a person runs it: the verdict line and the report; exit 4 on a mismatch
with --fail-on-mismatch; the Prefect server stopped mid-run leaves the Airflow outcome untouched."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from bridge.devstack import process
from tests.helpers import REPO

PY = shutil.which("python3") or "python3"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "trigger_script.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=400
    )


@pytest.fixture(scope="module")
def env(deployed: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("shadow-home")
    return {**deployed, "BRIDGE_HOME": str(home)}


def test_shadow_prints_the_verdict_and_writes_the_report(env: dict[str, str]) -> None:
    proc = run(env, "--dag-id", "hello_bridge", "--shadow", "--conf", '{"name": "cli"}')
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.splitlines()[0]
    assert line.startswith("shadow hello_bridge: match (0 differences); airflow success"), line
    report = Path(re.search(r"report: (\S+)", line).group(1))
    assert report.is_file() and "hello_bridge" in report.read_text()
    assert "shadow hello_bridge:" in proc.stderr  # progress while waiting
    from bridge.store import Store

    newest = Store(f"sqlite:///{Path(env['BRIDGE_HOME']) / 'history.db'}").history("hello_bridge")[0]
    assert newest["origin"] == "manual" and newest["conf"] == {"name": "cli"}  # someone ran --shadow


def test_fail_on_mismatch_exits_4(env: dict[str, str]) -> None:
    """A random value nobody calibrated as noise is a mismatch."""
    conf = '{"name": "cli", "with_noise": true}'
    proc = run(env, "--dag-id", "hello_bridge", "--shadow", "--fail-on-mismatch", "--conf", conf)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "mismatch" in proc.stdout.splitlines()[0] and "result.lucky" in proc.stdout
    again = run(env, "--dag-id", "hello_bridge", "--shadow", "--conf", conf)
    assert again.returncode == 0  # without the flag the caller gets the primary's outcome


def test_prefect_down_mid_run_leaves_the_airflow_outcome_untouched(env: dict[str, str], stack) -> None:  # type: ignore[no-untyped-def]
    from bridge import devstack

    server = process.read(stack.run_dir, "prefect-server")
    assert server is not None

    def stop_prefect() -> None:
        time.sleep(4)  # both runs are triggered and waiting by now
        process.stop(server, (15,), grace=10)

    killer = threading.Thread(target=stop_prefect)
    killer.start()
    try:
        proc = run(env, "--dag-id", "hello_bridge", "--shadow", "--conf", '{"name": "outage", "sleep_s": 12}')
    finally:
        killer.join()
        devstack.up(stack, say=lambda line: None)  # bring Prefect back for the tests after this one
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = proc.stdout.splitlines()[0]
    assert line.startswith("shadow hello_bridge: shadow_failed ("), line
    assert "; airflow success" in line
    assert "prefect unavailable" in line or "prefect error" in line
    assert "Traceback" not in proc.stderr
