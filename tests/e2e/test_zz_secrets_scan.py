"""The secrets scan (issue 15): real commands given the session's unique Airflow password every way a
person may give it (--password, --password=, an abbreviation, credentials inside --url and inside
BRIDGE_PREFECT_URL), the process list sampled during each wait; then every output, every log of the
stack, the reports, the history store and the ps samples are searched for the password and for JWTs.
Zero hits. Named to run after the other e2e tests, and self-contained: its own BRIDGE_HOME."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO

PY = shutil.which("python3") or "python3"
BRIDGE = str(REPO / ".venv" / "bin" / "bridge")
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


class Scan:
    """Every byte the commands showed: their outputs and the process list while they ran."""

    def __init__(self) -> None:
        self.outputs: list[tuple[str, bytes]] = []
        self.ps: list[bytes] = []

    def run(
        self, argv: list[str], env: dict[str, str], timeout: float = 300
    ) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        time.sleep(0.3)  # past the hand-off to .venv's python, which moves --password out of argv
        while proc.poll() is None and time.monotonic() < deadline:
            self.ps.append(subprocess.run(["ps", "-eo", "args"], capture_output=True).stdout)
            time.sleep(0.2)
        out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        self.outputs.append((" ".join(argv[1:4]), out + err))
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in sorted(root.rglob("*")) if p.is_file()]


@pytest.mark.timeout(1500)  # three waits and a shadow on a shared 2-core machine
def test_no_password_and_no_jwt_in_outputs_logs_reports_store_or_ps(
    deployed: dict[str, str], stack: Any, tmp_path: Path
) -> None:
    password = deployed["BRIDGE_AIRFLOW_PASSWORD"]  # unique to this test session (token_urlsafe)
    secret = password.encode()
    home = tmp_path / "home"
    env = {**deployed, "BRIDGE_HOME": str(home)}
    bare = {k: v for k, v in env.items() if k != "BRIDGE_AIRFLOW_PASSWORD"}
    airflow = env["BRIDGE_AIRFLOW_URL"]
    with_creds = airflow.replace("http://", f"http://{env['BRIDGE_AIRFLOW_USERNAME']}:{password}@")
    scan = Scan()
    script = [PY, "trigger_script.py", "--dag-id", "hello_bridge"]

    done = scan.run([*script, "--password", password, "--wait", "--timeout", "240"], bare)
    assert done.returncode == 0, done.stderr
    done = scan.run([*script, f"--password={password}", "--wait", "--timeout", "240"], bare)
    assert done.returncode == 0, done.stderr
    for spelling in (["--pass", password], [f"--passw={password}"]):
        refused = scan.run([*script, *spelling, "--wait"], bare)
        assert refused.returncode == 2 and b"spell it --password" in refused.stderr, refused.stderr
    done = scan.run([*script, "--url", with_creds, "--wait", "--timeout", "240"], env)
    assert done.returncode == 0, done.stderr
    assert airflow.encode() in done.stdout  # the run's link, without the credentials
    shadow = scan.run([BRIDGE, "trigger", "hello_bridge", "--shadow", "--conf", '{"name": "scan"}'], env)
    assert shadow.returncode == 0, shadow.stderr
    assert b"bridge status airflow:hello_bridge/" in shadow.stderr  # its run ids, before the wait
    prefect = env["BRIDGE_PREFECT_URL"].replace("http://", f"http://x:{password}@")
    listed = scan.run([BRIDGE, "list", "--backend", "prefect"], {**env, "BRIDGE_PREFECT_URL": prefect})
    assert listed.returncode == 0, listed.stderr
    down_url = f"http://u:{password}@127.0.0.1:9/api"  # an error line naming a URL with credentials
    down = scan.run([*script, "--backend", "prefect", "--url", down_url], env)
    assert down.returncode == 3 and b"http://***@127.0.0.1:9" in down.stderr, down.stderr
    for fmt in ("html", "json"):
        report = scan.run(
            [BRIDGE, "report", "hello_bridge", "--format", fmt, "-o", str(home / f"r.{fmt}")], env
        )
        assert report.returncode == 0, report.stderr

    assert scan.ps and any(b"trigger_script.py" in sample for sample in scan.ps)
    places: list[tuple[str, bytes]] = [*scan.outputs, *(("ps", sample) for sample in scan.ps)]
    stored = _files(home, Path(stack.log_dir))
    assert (home / "history.db").exists() and list((home / "reports").glob("hello_bridge.*"))
    places += [(str(p), p.read_bytes()) for p in stored]
    hits = [where for where, data in places if secret in data]
    assert not hits, f"the password shows in: {hits}"
    tokens = [where for where, data in places if JWT.search(data)]
    assert not tokens, f"a JWT shows in: {tokens}"
    print(
        f"secrets scan: {len(places)} places searched ({len(scan.ps)} ps samples, {len(stored)} files), 0 hits"
    )


def test_the_airflow_url_given_as_prefects_is_exit_2_in_one_line(deployed: dict[str, str]) -> None:
    """Issue 15, point 5: `--backend prefect --url <Airflow's URL>` was a traceback."""
    for argv in (
        [PY, "trigger_script.py", "--dag-id", "hello_bridge", "--backend", "prefect"],
        [BRIDGE, "trigger", "hello_bridge", "--backend", "prefect"],
    ):
        proc = subprocess.run(
            [*argv, "--url", deployed["BRIDGE_AIRFLOW_URL"]],
            cwd=REPO,
            env=deployed,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "airflow" in proc.stderr.lower(), proc.stderr


def test_a_conf_key_the_flow_does_not_take_is_refused_before_a_shadow_starts(
    deployed: dict[str, str], tmp_path: Path
) -> None:
    """Issue 15, point 6: Airflow takes any conf key, the Prefect flow's signature does not; a shadow with
    such a key was an opaque shadow_failed. Now: exit 2 naming the key and the parameters the flow takes,
    and no run on either side."""
    from bridge.backends.airflow import AirflowBackend

    env = {**deployed, "BRIDGE_HOME": str(tmp_path)}
    airflow = AirflowBackend(
        env["BRIDGE_AIRFLOW_URL"], env["BRIDGE_AIRFLOW_USERNAME"], env["BRIDGE_AIRFLOW_PASSWORD"]
    )

    def runs() -> int:
        return int(airflow.client.get("/dags/hello_bridge/dagRuns", params={"limit": 1})["total_entries"])

    before = runs()
    proc = subprocess.run(
        [BRIDGE, "trigger", "hello_bridge", "--shadow", "--conf", '{"name": "x", "colour": "red"}'],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert "'colour'" in line and "name" in line and "target" in line and "\n" not in line, proc.stderr
    assert runs() == before  # nothing triggered on Airflow
