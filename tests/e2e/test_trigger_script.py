"""trigger_script.py run as a person runs it (system python3, a subprocess) against the real stack."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import REPO, free_port

PY = shutil.which("python3") or "python3"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def run(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "trigger_script.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("trigger_script:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def env(deployed: dict[str, str]) -> dict[str, str]:
    return dict(deployed)


@pytest.fixture(scope="module")
def no_password_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != "BRIDGE_AIRFLOW_PASSWORD"}


def test_list_shows_workflows_of_both_systems(env: dict[str, str]) -> None:
    deadline = time.monotonic() + 90
    while True:
        proc = run(env, "--list")
        assert proc.returncode == 0, proc.stderr
        row = next((ln for ln in proc.stdout.splitlines() if ln.startswith("hello_bridge ")), "")
        if "airflow,prefect" in row or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert proc.stdout.splitlines()[0].split() == [
        "WORKFLOW",
        "STAGE",
        "SCHEDULE",
        "PAUSED",
        "LAST",
        "RUN",
        "KNOWN",
        "BY",
    ]
    assert row.split()[1] == "airflow" and row.split()[-1] == "airflow,prefect"


def test_the_legacy_forms_work_as_written(env: dict[str, str], no_password_env: dict[str, str]) -> None:
    proc = run(env, "--dag-id", "hello_bridge")
    assert proc.returncode == 0 and "triggered hello_bridge on airflow" in proc.stdout, proc.stderr
    proc = run(env, "--dag-id", "hello_bridge", "--conf", '{"param1": "valor1", "param2": 123}')
    assert proc.returncode == 0 and "triggered hello_bridge on airflow" in proc.stdout, proc.stderr
    proc = run(
        no_password_env,
        "--dag-id",
        "hello_bridge",
        "--username",
        env["BRIDGE_AIRFLOW_USERNAME"],
        "--password",
        env["BRIDGE_AIRFLOW_PASSWORD"],
    )
    assert proc.returncode == 0 and "triggered hello_bridge on airflow" in proc.stdout, proc.stderr


def test_wait_gives_the_same_outputs_on_both_backends(env: dict[str, str]) -> None:
    results = {}
    for backend in ("airflow", "prefect"):
        proc = run(
            env,
            "--dag-id",
            "hello_bridge",
            "--conf",
            '{"name": "paridade"}',
            "--backend",
            backend,
            "--wait",
            "--json",
        )
        assert proc.returncode == 0, proc.stderr
        assert "waiting for" in proc.stderr  # progress while waiting
        data = json.loads(proc.stdout)
        assert data["state"] == "success" and data["backend"] == backend
        results[backend] = data
    assert (
        results["airflow"]["result"]
        == results["prefect"]["result"]
        == {"greeting": "hello paridade", "target": "public", "length": 8}
    )
    assert results["airflow"]["tasks"]["greet"]["value"] == results["prefect"]["tasks"]["greet"]["value"]


def test_bad_conf_json_says_where(env: dict[str, str]) -> None:
    proc = run(env, "--dag-id", "hello_bridge", "--conf", '{"param1": "valor1",}')
    assert proc.returncode == 2
    assert "line 1 column 21" in one_error_line(proc)


def test_conf_must_be_an_object(env: dict[str, str]) -> None:
    proc = run(env, "--dag-id", "hello_bridge", "--conf", '["a"]')
    assert proc.returncode == 2 and "JSON object" in one_error_line(proc)


def test_unknown_dag_suggests_near_names(env: dict[str, str]) -> None:
    proc = run(env, "--dag-id", "helo_bridge")
    assert proc.returncode == 2 and "Did you mean: hello_bridge" in one_error_line(proc)


def test_wrong_password(no_password_env: dict[str, str]) -> None:
    proc = run(no_password_env, "--dag-id", "hello_bridge", "--password", "definitely-wrong")
    assert proc.returncode == 3 and "wrong username or password" in one_error_line(proc)
    assert "definitely-wrong" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("backend,suffix", [("airflow", ""), ("prefect", "/api")])
def test_backend_down(env: dict[str, str], backend: str, suffix: str) -> None:
    url = f"http://127.0.0.1:{free_port()}{suffix}"
    proc = run(env, "--dag-id", "hello_bridge", "--backend", backend, "--url", url)
    assert proc.returncode == 3 and f"{backend} is unreachable at {url}" in one_error_line(proc)


def test_timeout_while_waiting_is_exit_6_and_names_the_run(env: dict[str, str]) -> None:
    proc = run(
        env, "--dag-id", "hello_bridge", "--backend", "prefect", "--wait", "--timeout", "0.5", "--json"
    )
    assert proc.returncode == 6
    line = one_error_line(proc)
    assert "goes on" in line and "/runs/flow-run/" in line
    error = json.loads(proc.stdout)
    assert error["exit_code"] == 6 and error["kind"] == "WaitTimeoutError"
    assert error["run"].startswith("prefect:") and f"bridge status {error['run']} --wait" in line


def test_the_dev_default_password_refused_says_it_was_tried_and_how_to_give_one(
    no_password_env: dict[str, str],
) -> None:
    """The test stack's password is not the dev default: none given, the default is tried and refused."""
    proc = run(no_password_env, "--dag-id", "hello_bridge")
    line = one_error_line(proc)
    assert proc.returncode == 3 and "default password, tried because none was given" in line
    assert "--password or BRIDGE_AIRFLOW_PASSWORD" in line and "on a terminal you are asked" in line


def test_on_a_terminal_the_refused_default_is_followed_by_a_prompt(
    no_password_env: dict[str, str], env: dict[str, str]
) -> None:
    import os
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: trigger_script.py on a terminal, no password given
        os.chdir(REPO)
        os.execvpe(PY, [PY, "trigger_script.py", "--list"], no_password_env)
    seen = b""
    deadline = time.monotonic() + 120
    while b"password for" not in seen.lower() and time.monotonic() < deadline:
        seen += os.read(fd, 1024)
    assert b"refused the dev default" in seen, seen
    os.write(fd, env["BRIDGE_AIRFLOW_PASSWORD"].encode() + b"\n")
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"hello_bridge" in seen and env["BRIDGE_AIRFLOW_PASSWORD"].encode() not in seen


def test_malformed_bridge_toml(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bridge.toml"
    bad.write_text('[backends.airflow]\nurl = "http://x"\nuser = "typo"\n')
    proc = run({**env, "BRIDGE_CONFIG": str(bad)}, "--list")
    assert proc.returncode == 2
    assert f"{bad}:3: unknown key 'backends.airflow.user'" in one_error_line(proc)


def test_password_and_token_never_show(env: dict[str, str], no_password_env: dict[str, str], stack) -> None:  # type: ignore[no-untyped-def]
    password = env["BRIDGE_AIRFLOW_PASSWORD"]
    proc = subprocess.Popen(
        [
            PY,
            "trigger_script.py",
            "--dag-id",
            "hello_bridge",
            "--username",
            env["BRIDGE_AIRFLOW_USERNAME"],
            "--password",
            password,
            "--wait",
        ],
        cwd=REPO,
        env=no_password_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    listings = []
    time.sleep(0.3)  # past the hand-off to .venv's python, which drops --password from the command line
    while proc.poll() is None:
        listings.append(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout)
        time.sleep(0.2)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert listings and any("trigger_script.py" in ps for ps in listings)
    assert not [ps for ps in listings if password in ps]
    assert password not in out + err and not JWT.search(out + err)
    for log in Path(stack.log_dir).glob("*.log"):
        assert password not in log.read_text(errors="replace"), log
