"""`trigger_script.py --list` with --url and with one side down, run as a person runs it (system python3, a
subprocess) against the real stack: --url is Airflow's URL (the backend --backend names otherwise), and a
side that does not answer is exit 3 after what the other side knows, one line naming the side down."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.test_trigger_script import PY, one_error_line
from tests.helpers import REPO, free_port, wait_for

BRIDGE = str(REPO / ".venv" / "bin" / "bridge")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "trigger_script.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def dead() -> str:
    """A URL with nothing listening."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def env(deployed: dict[str, str]) -> dict[str, str]:
    return dict(deployed)


@pytest.fixture(scope="module")
def listed_dags(official) -> Callable[[], set[str]]:  # type: ignore[no-untyped-def]
    """The DAGs Airflow itself lists, read by the official client (the referee), when called."""
    from airflow_client.client.api.dag_api import DAGApi

    return lambda: {d.dag_id for d in DAGApi(official).get_dags(limit=1000).dags}


def rows(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """--list --json: the list, or (a side down) one error object holding what the other side listed."""
    proc = run(env, "--list", "--json", *args)
    assert "Traceback" not in proc.stderr
    body = json.loads(proc.stdout)
    if proc.returncode == 0:
        assert isinstance(body, list)
        return proc, body
    assert body["exit_code"] == proc.returncode and body["error"] in proc.stderr
    return proc, body.get("workflows", [])


def known_by(listed: list[dict[str, Any]], side: str) -> set[str]:
    return {r["id"] for r in listed if side in r["known_by"]}


def both_sides_seen(env: dict[str, str], listed_dags: Callable[[], set[str]]) -> list[dict[str, Any]]:
    """The full list once Airflow has parsed its DAGs (the referee agrees; hello_bridge is on both sides)."""

    def seen() -> list[dict[str, Any]] | None:
        proc, listed = rows(env)
        assert proc.returncode == 0, proc.stderr
        hello = next((r for r in listed if r["id"] == "hello_bridge"), {})
        settled = (
            hello.get("known_by") == ["airflow", "prefect"] and known_by(listed, "airflow") == listed_dags()
        )
        return listed if settled else None

    return wait_for(seen, 120, "hello_bridge known by both sides")  # type: ignore[no-any-return]


def test_url_on_list_is_the_airflow_url(env: dict[str, str], listed_dags: Callable[[], set[str]]) -> None:
    full = both_sides_seen(env, listed_dags)
    # bridge.toml's (here: the environment's) Airflow URL is dead; --url gives the live one, Prefect untouched
    proc, listed = rows({**env, "BRIDGE_AIRFLOW_URL": dead()}, "--url", env["BRIDGE_AIRFLOW_URL"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert [(r["id"], r["known_by"]) for r in listed] == [(r["id"], r["known_by"]) for r in full]
    assert known_by(listed, "airflow") == listed_dags()
    assert "hello_bridge" in known_by(listed, "prefect")
    text = run({**env, "BRIDGE_AIRFLOW_URL": dead()}, "--list", "--url", env["BRIDGE_AIRFLOW_URL"])
    assert text.returncode == 0 and "405" not in text.stdout + text.stderr, text.stderr
    hello = next(ln for ln in text.stdout.splitlines() if ln.startswith("hello_bridge "))
    assert hello.split()[-1] == "airflow,prefect"


def test_url_names_the_backend_given(env: dict[str, str], listed_dags: Callable[[], set[str]]) -> None:
    both_sides_seen(env, listed_dags)
    proc, listed = rows(
        {**env, "BRIDGE_PREFECT_URL": dead()}, "--backend", "prefect", "--url", env["BRIDGE_PREFECT_URL"]
    )
    assert proc.returncode == 0, proc.stderr
    assert known_by(listed, "airflow") == set()
    assert "hello_bridge" in known_by(listed, "prefect")
    proc, listed = rows(
        {**env, "BRIDGE_AIRFLOW_URL": dead()}, "--backend", "airflow", "--url", env["BRIDGE_AIRFLOW_URL"]
    )
    assert proc.returncode == 0, proc.stderr
    assert known_by(listed, "airflow") == listed_dags() and known_by(listed, "prefect") == set()


def test_bridge_list_url_is_the_airflow_url_too(
    env: dict[str, str], listed_dags: Callable[[], set[str]]
) -> None:
    both_sides_seen(env, listed_dags)
    proc = subprocess.run(
        [BRIDGE, "list", "--json", "--url", env["BRIDGE_AIRFLOW_URL"]],
        env={**env, "BRIDGE_AIRFLOW_URL": dead()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert known_by(listed, "airflow") == listed_dags() and "hello_bridge" in known_by(listed, "prefect")


def test_airflow_down_is_exit_3_after_what_prefect_knows(
    env: dict[str, str], listed_dags: Callable[[], set[str]]
) -> None:
    both_sides_seen(env, listed_dags)
    url = dead()
    proc, listed = rows(env, "--url", url)
    assert proc.returncode == 3
    line = one_error_line(proc)
    assert f"airflow is unreachable at {url}" in line and "prefect is unreachable" not in line
    assert known_by(listed, "airflow") == set() and "hello_bridge" in known_by(listed, "prefect")
    text = run(env, "--list", "--url", url)
    assert text.returncode == 3 and f"airflow is unreachable at {url}" in one_error_line(text)
    assert text.stdout.splitlines()[0].startswith("WORKFLOW")
    hello = next(ln for ln in text.stdout.splitlines() if ln.startswith("hello_bridge "))
    assert hello.split()[-1] == "prefect"


def test_prefect_down_is_exit_3_after_what_airflow_knows(
    env: dict[str, str], listed_dags: Callable[[], set[str]]
) -> None:
    both_sides_seen(env, listed_dags)
    url = f"{dead()}/api"
    proc, listed = rows({**env, "BRIDGE_PREFECT_URL": url, "PREFECT_API_URL": url})
    assert proc.returncode == 3
    line = one_error_line(proc)
    assert f"prefect is unreachable at {url}" in line and "airflow is unreachable" not in line
    assert known_by(listed, "airflow") == listed_dags() and known_by(listed, "prefect") == set()


def test_both_down_is_exit_3_naming_both(env: dict[str, str]) -> None:
    airflow, prefect = dead(), f"{dead()}/api"
    proc, listed = rows({**env, "BRIDGE_PREFECT_URL": prefect, "PREFECT_API_URL": prefect}, "--url", airflow)
    assert proc.returncode == 3 and listed == []
    line = one_error_line(proc)
    assert f"airflow is unreachable at {airflow}" in line and f"prefect is unreachable at {prefect}" in line


def test_help_says_what_url_means_and_when_list_exits_3(env: dict[str, str]) -> None:
    proc = run(env, "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "the Airflow base URL" in text and "--backend prefect: the Prefect API URL" in text
    assert "--list exits 3 when either side (Airflow or Prefect) is unreachable" in text
