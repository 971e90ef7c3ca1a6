"""Servers that are not the API the bridge was pointed at, through `trigger_script.py --list` as a person
runs it (a subprocess): an HTML page (an SSO login page, a proxy), the real test stack's Prefect given as
Airflow and its Airflow as Prefect, Prefect's UI URL for its API, a URL without a scheme. Each is exit 2
and one line on stderr saying what is wrong, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.helpers import REPO

PY = shutil.which("python3") or "python3"
LOGIN = "<!doctype html><html><head><title>Sign in - Corp SSO</title></head><body><form></form></body></html>"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "trigger_script.py", "--list", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The one error line of a failed run (no traceback, nothing else on stderr), its prefix cut."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("trigger_script: "), proc.stderr
    return lines[0].removeprefix("trigger_script: ")


@pytest.fixture(scope="module")
def login_page() -> Iterator[str]:
    """A tiny server answering every GET and POST with an SSO's login page (after a redirect, as SSOs do)."""

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            if self.headers.get("Content-Length"):
                self.rfile.read(int(self.headers["Content-Length"]))
            if not self.path.startswith("/sso/login"):
                self.send_response(302)
                self.send_header("Location", "/sso/login?next=%2Fapi&ticket=abc123")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = LOGIN.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = answer

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_an_sso_login_page_as_airflow(stack_env: dict[str, str], login_page: str) -> None:
    line = one_line(run({**stack_env, "BRIDGE_AIRFLOW_URL": login_page}))
    assert line == (
        f"{login_page} answered POST /auth/token with an HTML page titled 'Sign in - Corp SSO' (redirected to "
        f"{login_page}/sso/login) (a login page or a proxy?), not Airflow's JSON API"
    )
    assert "abc123" not in line  # the redirect's query (tickets, SAML requests) is never shown


def test_an_sso_login_page_as_prefect(stack_env: dict[str, str], login_page: str) -> None:
    line = one_line(run({**stack_env, "BRIDGE_PREFECT_URL": f"{login_page}/api"}, "--backend", "prefect"))
    assert line.startswith(f"{login_page}/api answered POST /deployments/filter with an HTML page titled")
    assert line.endswith("(a login page or a proxy?), not Prefect's JSON API")


def test_prefect_given_as_airflow(stack: Any, stack_env: dict[str, str]) -> None:
    """The test stack's real Prefect server, by its UI URL and by its API URL, as the Airflow URL."""
    for url in (stack.prefect_ui_url, stack.prefect_url):
        line = one_line(run({**stack_env, "BRIDGE_AIRFLOW_URL": url}))
        assert line == f"{url} is not an Airflow 3 API (it looks like Prefect's)"


def test_airflow_given_as_prefect(stack: Any, stack_env: dict[str, str]) -> None:
    for url in (stack.airflow_url, f"{stack.airflow_url}/api"):
        line = one_line(run({**stack_env, "BRIDGE_PREFECT_URL": url}, "--backend", "prefect"))
        assert line == f"{url} is not a Prefect 3 API (it looks like Airflow 3's)"


def test_prefect_ui_url_for_its_api(stack: Any, stack_env: dict[str, str]) -> None:
    line = one_line(run({**stack_env, "BRIDGE_PREFECT_URL": stack.prefect_ui_url}, "--backend", "prefect"))
    assert line == (
        f"{stack.prefect_ui_url} is a Prefect 3 server, not the URL the bridge takes for it: use {stack.prefect_url}"
    )


def test_airflow_api_path_for_its_url(stack: Any, stack_env: dict[str, str]) -> None:
    url = f"{stack.airflow_url}/api/v2"
    line = one_line(run({**stack_env, "BRIDGE_AIRFLOW_URL": url}))
    assert (
        line == f"{url} is an Airflow 3 server, not the URL the bridge takes for it: use {stack.airflow_url}"
    )


def test_a_url_without_a_scheme(stack: Any, stack_env: dict[str, str]) -> None:
    bare = stack.airflow_url.removeprefix("http://")
    line = one_line(run({**stack_env, "BRIDGE_AIRFLOW_URL": bare}))
    assert line == f"BRIDGE_AIRFLOW_URL '{bare}' has no scheme: use http://{bare}"
    bare = stack.prefect_url.removeprefix("http://")
    line = one_line(run({**stack_env, "BRIDGE_PREFECT_URL": bare}, "--backend", "prefect"))
    assert line == f"BRIDGE_PREFECT_URL '{bare}' has no scheme: use http://{bare}"


def test_the_right_urls_still_list(stack_env: dict[str, str]) -> None:
    """The referee of the above: the same stack with its own URLs lists, exit 0, nothing on stderr."""
    proc = run(stack_env)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.startswith("WORKFLOW")
