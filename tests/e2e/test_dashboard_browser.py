"""The dashboard in a real browser, over real history: both orchestrators of the test stack ran a shadow
of hello_bridge (one of them with HTML in its conf, which the workflow echoes into its result), then
`bridge serve` runs as a person starts it and Debian's headless Chromium loads its pages: the list, the
workflow page with both runs side by side and their links (each fetched: the real Airflow and Prefect UI
servers answer 200, and each server's API knows the run the link names), a screenshot that is a real
picture, and the injected HTML shown as text in the DOM, never run."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests

from tests.e2e.test_report_browser import find_chromium, pixel_counts, run_chromium
from tests.helpers import REPO, free_port, wait_for
from tests.unit.report_samples import Page

#: the module fixture deploys and runs two shadows before the first test: on this shared 2-core machine
#: (a loaded stack: a shadow can take 90 s) that alone may pass the suite's 600 s per test
pytestmark = pytest.mark.timeout(1200)

SCRIPT = "<script>alert(1)</script>"
PY = shutil.which("python3") or "python3"
DAG = "hello_bridge"


def shadow(env: dict[str, str], name: str) -> str:
    proc = subprocess.run(
        [PY, "trigger_script.py", "--dag-id", DAG, "--shadow", "--conf", f'{{"name": "{name}"}}'],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = proc.stdout.splitlines()[0]
    assert line.startswith(f"shadow {DAG}: match"), line
    assert "(waited " in line and ", ran " in line  # both times, labelled
    return line


@pytest.fixture(scope="module")
def dashboard(deployed: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Real history in a home of its own, and `bridge serve` over it on a free port."""
    home = tmp_path_factory.mktemp("dashboard-home")
    env = {**deployed, "BRIDGE_HOME": str(home)}
    shadow(env, "browser")
    shadow(env, SCRIPT)
    port = free_port()
    log = (home / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "bridge"), "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                return requests.get(f"{url}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return proc.poll() is not None  # it died: stop waiting, the assert below says why

        wait_for(up, 60, "bridge serve to answer")
        assert proc.poll() is None, (home / "serve.log").read_text()
        yield {"url": url, "env": env, "home": home}
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def dom(url: str, profile: Path) -> tuple[Page, str]:
    proc = run_chromium(find_chromium(), profile, "--dump-dom", url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Page(proc.stdout), proc.stdout


def test_the_list_shows_the_workflow_with_its_verdict(dashboard: dict[str, Any], tmp_path: Path) -> None:
    page, text = dom(dashboard["url"] + "/", tmp_path / "profile")
    rows = {r["data-workflow"]: r for r in page.tags("tr") if r.get("data-workflow")}
    assert rows[DAG]["data-verdict"] == "match" and rows[DAG]["data-stage"] == "airflow"
    assert f'href="/workflows/{DAG}"' in text
    matched, _ = dom(dashboard["url"] + "/?verdict=match", tmp_path / "profile")
    assert [r["data-workflow"] for r in matched.tags("tr") if r.get("data-workflow")] == [DAG]


def run_links(page: Page) -> dict[str, list[str]]:
    hrefs = [a["href"] or "" for a in page.tags("a")]
    return {
        "airflow": sorted({h for h in hrefs if re.search(rf"/dags/{DAG}/runs/[^/]+$", h)}),
        "prefect": sorted({h for h in hrefs if "/runs/flow-run/" in h}),
        "tasks": sorted({h for h in hrefs if re.search(rf"/dags/{DAG}/runs/[^/]+/tasks/", h)}),
        "task_runs": sorted({h for h in hrefs if "/runs/task-run/" in h}),
    }


def test_the_workflow_page_sets_both_runs_side_by_side_with_working_links(
    dashboard: dict[str, Any], stack: Any, tmp_path: Path
) -> None:
    page, text = dom(f"{dashboard['url']}/workflows/{DAG}", tmp_path / "profile")
    assert page.tags("svg") and len(page.tags("circle")) == 2  # the history picture: two comparisons
    tasks = [r["data-task"] for r in page.tags("tr") if r.get("data-task")]
    assert tasks == ["greet"], tasks  # the task, once, with both sides' cells
    assert 'class="task airflow"' in text and 'class="task prefect"' in text
    links = run_links(page)
    assert links["airflow"] and links["prefect"] and links["tasks"] and links["task_runs"], links
    assert all(h.startswith(stack.airflow_url) for h in links["airflow"] + links["tasks"])
    assert all(h.startswith(stack.prefect_ui_url) for h in links["prefect"] + links["task_runs"])
    for link in links["airflow"] + links["tasks"] + links["prefect"] + links["task_runs"]:
        answer = requests.get(link, headers={"Accept": "text/html"}, timeout=30)  # as a browser navigates
        assert answer.status_code == 200 and "<html" in answer.text.lower(), (link, answer.status_code)
    # each link names a run its server knows: the API, asked for the id in the link, answers with it
    token = requests.post(
        f"{stack.airflow_url}/auth/token",
        json={"username": stack.airflow_user, "password": stack.airflow_password},
        timeout=30,
    ).json()["access_token"]
    for link in links["airflow"]:
        run_id = unquote(urlsplit(link).path.rsplit("/", 1)[1])
        got = requests.get(
            f"{stack.airflow_url}/api/v2/dags/{DAG}/dagRuns/{run_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert got.status_code == 200 and got.json()["dag_run_id"] == run_id, got.text
    for link in links["prefect"]:
        flow_run = urlsplit(link).path.rsplit("/", 1)[1]
        got = requests.get(f"{stack.prefect_url}/flow_runs/{flow_run}", timeout=30)
        assert got.status_code == 200 and got.json()["id"] == flow_run, got.text
    for link in links["task_runs"]:
        task_run = urlsplit(link).path.rsplit("/", 1)[1]
        got = requests.get(f"{stack.prefect_url}/task_runs/{task_run}", timeout=30)
        assert got.status_code == 200 and got.json()["name"].startswith("greet"), got.text
    assert re.search(r"duration \d+\.\d s", text), "each task's time, on both sides"
    latest = re.search(r'href="(/comparisons/\d+)"', text)
    assert latest, "the latest comparison links to its own page"
    own, own_text = dom(dashboard["url"] + latest.group(1), tmp_path / "profile")
    assert "Comparison #" in own_text and run_links(own)["prefect"]


def test_html_injected_through_a_conf_value_is_shown_escaped(
    dashboard: dict[str, Any], tmp_path: Path
) -> None:
    page, text = dom(f"{dashboard['url']}/workflows/{DAG}", tmp_path / "profile")
    assert not page.tags("script")  # nothing the conf carried became an element
    assert not any(name.startswith("on") for _, attrs in page.elements for name in attrs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # the DOM holds it as text: the greeting
    answer = requests.get(f"{dashboard['url']}/workflows/{DAG}", timeout=30)
    assert SCRIPT not in answer.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")


def test_a_screenshot_of_the_workflow_page_is_a_real_picture(
    dashboard: dict[str, Any], tmp_path: Path
) -> None:
    shot = tmp_path / "dashboard.png"
    proc = run_chromium(
        find_chromium(),
        tmp_path / "profile",
        "--window-size=1060,1000",
        f"--screenshot={shot}",
        f"{dashboard['url']}/workflows/{DAG}",
    )
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-3000:]
    width, height = 1060, 1000
    pixels = pixel_counts(shot.read_bytes(), (width, height))
    assert len(pixels) > 100, f"a nearly blank page: {len(pixels)} colours"
    white = pixels[(255, 255, 255)] / (width * height)
    assert 0.3 < white < 0.98, f"{white:.0%} of the page is white"
    assert pixels[(0x1A, 0x7F, 0x37)] > 50, "no green verdict painted (the match badges and dots)"


def test_metrics_of_the_running_dashboard_parse_with_the_real_history(dashboard: dict[str, Any]) -> None:
    """`/metrics` of the running `bridge serve`, read by prometheus_client's own parser: the two manual
    shadows of the module fixture, their sides' durations, the stage; no run id anywhere in the labels."""
    from prometheus_client.parser import text_string_to_metric_families

    answer = requests.get(dashboard["url"] + "/metrics", timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    total = {
        (s.labels["verdict"], s.labels["origin"]): s.value
        for s in families["bridge_comparisons"].samples
        if s.name == "bridge_comparisons_total" and s.labels["workflow"] == DAG
    }
    assert total == {("match", "manual"): 2.0}
    sides = {
        s.labels["side"]
        for s in families["bridge_run_duration_seconds"].samples
        if s.labels.get("workflow") == DAG and s.name.endswith("_count") and s.value == 2
    }
    assert sides == {"airflow", "prefect"}
    stage = [s for s in families["bridge_stage_info"].samples if s.labels["workflow"] == DAG]
    assert [s.labels["stage"] for s in stage] == ["airflow"]
    labels = {v for f in families.values() for s in f.samples for v in s.labels.values()}
    assert not [v for v in labels if "__" in v or re.fullmatch(r"[0-9a-f-]{36}", v)]  # no run ids
