"""The dashboard's pages over a history store of our own (Starlette's TestClient, no server, no
orchestrator): the list and its filters, a workflow page (picture, latest comparison, both runs side by
side with their links, audit trail), a comparison page by id, hostile values escaped; and who may act:
no token, no form and every POST refused; a wrong token or CSRF value refused; the right ones move the
stage through the CLI's own code (over fake schedulers) and the audit names dashboard:<who>."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():  # Starlette 1.10 asks for httpx2 (not pinned here); httpx 0.28 works as is
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from bridge import config, shadow
from bridge.compare import model
from bridge.cutover.ledger import Ledger
from bridge.serve.app import create_app
from bridge.serve.guard import COOKIE
from bridge.serve.source import Source
from bridge.store import Store
from tests.unit.report_samples import Page
from tests.unit.test_switch_logic import stack

DAG = "update_prices_daily"
CATALOG = config.load()
SCRIPT = "<script>alert(1)</script>"
TOKEN = "s3cret-dashboard-token"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
AIRFLOW_RUN = "http://127.0.0.1:8080/dags/update_prices_daily/runs/shadow__c"
PREFECT_RUN = "http://127.0.0.1:4200/runs/flow-run/0b4e7c1a"


def _side(side: str, n: int, waited: float, ran: float, value: Any) -> shadow.SideOutcome:
    start = T0 + timedelta(minutes=n)
    url = f"{AIRFLOW_RUN}{n}" if side == "airflow" else f"{PREFECT_RUN}-{n}"
    doc = {"state": "success", "tasks": {"compute": {"state": "success", "value": value}}, "result": value}
    return shadow.SideOutcome(
        side,
        "success",
        f"{side}:run-{n}",
        start,
        start + timedelta(seconds=ran),
        url,
        None,
        doc,
        None,
        waited,
        {
            "compute": {"duration_s": ran / 2, "id": f"tr-{n}" if side == "prefect" else None}
        },  # each task's time
    )


def result(n: int, verdict: str, value: Any = 1, origin: shadow.Origin = "manual") -> shadow.ShadowResult:
    diffs = (model.Difference("result.total", value, 2, model.CHANGED),) if verdict == "mismatch" else ()
    diffs += (model.Difference("result.ran_at", "09:00", "09:01", model.IGNORED, "the run's own clock"),)
    return shadow.ShadowResult(
        DAG,
        f"c{n}",
        {"name": SCRIPT},
        verdict,
        _side("airflow", n, 3.4, 3.2, value),
        _side("prefect", n, 4.5, 0.2, value),
        diffs,
        (
            model.TableDiff(
                "price_history", ("product_id",), 10, 9, only_airflow=((357,),), only_airflow_count=1
            ),
        ),
        wall_s=4.6,
        origin=origin,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    found = Store(f"sqlite:///{tmp_path / 'history.db'}")
    for n in range(1, 5):
        found.record(result(n, "match", origin="scheduled"))
    found.record(result(5, "mismatch", value=SCRIPT))
    yield found
    found.engine.dispose()


def client(store: Store, token: str | None = None, backends: Any = None) -> TestClient:
    return TestClient(create_app(Source(store, CATALOG), token, backends), base_url="http://127.0.0.1:8790")


def test_the_list_shows_stage_streak_last_verdict_next_and_filters(store: Store) -> None:
    page = client(store).get("/")
    assert page.status_code == 200 and page.headers["content-security-policy"].startswith(
        "default-src 'none'"
    )
    rows = {r["data-workflow"]: r for r in Page(page.text).tags("tr") if r.get("data-workflow")}
    assert set(rows) == set(CATALOG.workflows)  # every catalogued workflow, with or without history
    assert rows[DAG]["data-verdict"] == "mismatch" and rows[DAG]["data-stage"] == "airflow"
    assert f"bridge promote {DAG}" in page.text and f'href="/workflows/{DAG}"' in page.text
    only = client(store).get("/?verdict=mismatch")
    assert [r["data-workflow"] for r in Page(only.text).tags("tr") if r.get("data-workflow")] == [DAG]
    none = client(store).get("/?stage=prefect")
    assert not [r for r in Page(none.text).tags("tr") if r.get("data-workflow")]
    assert "No workflow matches these filters." in none.text
    bad = client(store).get("/?stage=<b>")
    assert bad.status_code == 400 and "unknown filter" in bad.text and "<b>" not in bad.text


def test_the_workflow_page_draws_the_history_and_sets_both_runs_side_by_side(store: Store) -> None:
    Ledger(store).record(DAG, "airflow", "shadow", actor="ana", reason=f"ready {SCRIPT}")
    page = client(store).get(f"/workflows/{DAG}")
    assert page.status_code == 200
    doc = Page(page.text)
    circles = doc.tags("circle")
    assert [c["class"] for c in circles] == ["dot verdict-match"] * 4 + ["dot verdict-mismatch"]
    assert len(doc.tags("polyline")) == 4  # each side waited and ran
    assert 'class="badge verdict-mismatch"' in page.text and "result.total" in page.text
    assert "the run&#x27;s own clock" in page.text  # the ignored row, with its reason
    assert "[357]" in page.text  # a sample key of the table diff
    hrefs = {a["href"] for a in doc.tags("a")}
    assert f"{AIRFLOW_RUN}5" in hrefs and f"{PREFECT_RUN}-5" in hrefs
    assert f"{AIRFLOW_RUN}5/tasks/compute" in hrefs  # the task instance's page in the Airflow UI
    assert "http://127.0.0.1:4200/runs/task-run/tr-5" in hrefs  # the task run's page in the Prefect UI
    assert "duration 1.6 s" in page.text and "duration 0.1 s" in page.text  # each side's task time
    assert "waited 3.4 s" in page.text and "ran 3.2 s" in page.text and "ran 0.2 s" in page.text
    assert "/comparisons/5" in hrefs
    assert "ana" in page.text and "airflow → shadow" in page.text  # the audit trail
    assert "<script" not in page.text.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert client(store).get("/workflows/nobody").status_code == 404


def test_a_comparison_has_its_own_page(store: Store) -> None:
    page = client(store).get("/comparisons/2")
    assert page.status_code == 200 and "Comparison #2" in page.text and "badge verdict-match" in page.text
    assert f"{AIRFLOW_RUN}2" in page.text and f"{PREFECT_RUN}-2" in page.text
    assert client(store).get("/comparisons/999").status_code == 404


def test_without_a_token_there_is_no_form_and_every_post_is_refused(store: Store) -> None:
    c = client(store)
    page = c.get(f"/workflows/{DAG}")
    assert not Page(page.text).tags("form") or all(
        f.get("class") != "move" for f in Page(page.text).tags("form")
    )
    assert COOKIE not in page.cookies
    refused = c.post(f"/workflows/{DAG}/move", data={"verb": "promote", "reason": "x", "who": "a"})
    assert refused.status_code == 403 and "read-only" in refused.text
    assert Ledger(store).history(DAG) == []


def _form(c: TestClient) -> dict[str, str]:
    page = c.get(f"/workflows/{DAG}")
    assert TOKEN not in page.text  # the token is never rendered
    forms = [f for f in Page(page.text).tags("input") if f.get("name") == "csrf"]
    assert forms, "a move form"
    return {
        "verb": "promote",
        "csrf": forms[0]["value"] or "",
        "token": TOKEN,
        "who": "alice",
        "reason": "port ok",
    }


def test_a_wrong_token_or_csrf_value_is_refused(store: Store) -> None:
    backends, log = stack("airflow")
    c = client(store, TOKEN, lambda: backends)
    good = _form(c)
    for change in ({"token": "wrong"}, {"csrf": "0" * 64}, {"csrf": ""}):
        answer = c.post(f"/workflows/{DAG}/move", data={**good, **change})
        assert answer.status_code == 403, change
    foreign = c.post(f"/workflows/{DAG}/move", data=good, headers={"origin": "http://evil.example"})
    assert foreign.status_code == 403 and "another site" in foreign.text
    other = client(store, TOKEN, lambda: backends)  # another browser: no session cookie of its own
    assert other.post(f"/workflows/{DAG}/move", data=good).status_code == 403
    assert c.post(f"/workflows/{DAG}/move", data={**good, "reason": " "}).status_code == 400
    assert c.get(f"/workflows/{DAG}/move").status_code == 405  # POST only
    assert Ledger(store).history(DAG) == [] and log == []


def test_the_right_token_and_csrf_move_the_stage_and_the_audit_names_the_dashboard(store: Store) -> None:
    backends, log = stack("airflow")
    c = client(store, TOKEN, lambda: backends)
    cookie = c.get(f"/workflows/{DAG}").headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    answer = c.post(f"/workflows/{DAG}/move", data=_form(c))
    assert answer.status_code == 200, answer.text
    assert "airflow → shadow" in answer.text and "dashboard:alice" in answer.text
    (change,) = Ledger(store).history(DAG)
    assert (change.from_stage, change.to_stage, change.actor, change.reason) == (
        "airflow",
        "shadow",
        "dashboard:alice",
        "port ok",
    )
    assert log and log[-1] == "prefect resume"  # the CLI's switch ran, over the fake schedulers
    again = c.post(f"/workflows/{DAG}/move", data=_form(c))
    assert again.status_code == 400 and "not a move" in again.text  # promote is not offered from shadow
    assert re.search(r"dashboard:alice", c.get(f"/workflows/{DAG}").text)


def test_a_port_it_cannot_listen_on_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess

    from tests.helpers import REPO

    env = {**os.environ, "BRIDGE_HOME": str(tmp_path), "BRIDGE_DASHBOARD_TOKEN": TOKEN}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [str(REPO / ".venv" / "bin" / "bridge"), "serve", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"bridge: bridge serve cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
    assert "Traceback" not in proc.stderr and TOKEN not in proc.stderr + proc.stdout
    bad = subprocess.run(
        [str(REPO / ".venv" / "bin" / "bridge"), "serve"],
        env={**env, "BRIDGE_DASHBOARD_PORT": "not-a-port"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr
    assert "not-a-port" in bad.stderr  # click names the bad value (read from BRIDGE_DASHBOARD_PORT)


def test_metrics_route_serves_the_store_in_prometheus_text_format(store: Store) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    answer = client(store).get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain; version=")
    samples = [s for f in text_string_to_metric_families(answer.text) for s in f.samples]
    counts = {
        (s.labels["verdict"], s.labels["origin"]): s.value
        for s in samples
        if s.name == "bridge_comparisons_total" and s.labels["workflow"] == DAG
    }
    assert counts == {("match", "scheduled"): 4.0, ("mismatch", "manual"): 1.0}
    ratio = [s.value for s in samples if s.name == "bridge_consistency_ratio" and s.labels["workflow"] == DAG]
    assert ratio == [0.8]
    stage = [
        s.labels["stage"] for s in samples if s.name == "bridge_stage_info" and s.labels["workflow"] == DAG
    ]
    assert stage == ["airflow"]
