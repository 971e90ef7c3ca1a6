"""Publishing on the real stack: after a real shadow run, the DAG run's note and the flow run's artifact
read back through Airflow's and Prefect's own APIs, the Prefect event found with /events/filter, the
mismatch alert received by a local webhook and a command, and receivers that are dead or never answer
delaying nothing (each delivery recorded in the store)."""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge import config, metrics, publish, shadow
from bridge.config import ParamMapping
from bridge.operations import Backends
from bridge.publish.outbox import Outbox
from bridge.store import Store
from tests.helpers import free_port, wait_for, wait_for_dags

pytestmark = pytest.mark.timeout(
    1200
)  # the stack's start counts when this module runs alone, on a busy machine
WF = "hello_bridge"
DASHBOARD = "http://dashboard.test:8790"


@pytest.fixture(scope="module")
def backends(stack, deployed) -> Backends:  # type: ignore[no-untyped-def]
    env = {
        "BRIDGE_AIRFLOW_URL": stack.airflow_url,
        "BRIDGE_PREFECT_URL": stack.prefect_url,
        "BRIDGE_AIRFLOW_PASSWORD": stack.airflow_password,
        **dict(stack.extra_env),
    }
    b = Backends(config.load(env=env), env=env)
    wait_for_dags(b.get("airflow"), (WF,))
    return b


def _with(backends: Backends, sections: dict[str, Any], wrong_conf: bool = False) -> Backends:
    """``backends`` with [publish]/[alerts] ``sections``; ``wrong_conf``: the catalog maps hello_bridge's
    conf wrong (Prefect gets another default name), so the comparison is a mismatch."""
    entry = backends.catalog.entry(WF)
    if wrong_conf:
        entry = dataclasses.replace(entry, params=ParamMapping(defaults={"name": "someone else"}))
    catalog = dataclasses.replace(
        backends.catalog,
        workflows={**backends.catalog.workflows, WF: entry},
        sections={"publish": {"dashboard_url": DASHBOARD}, **sections},
    )
    return Backends(catalog, env=backends.env)


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.bodies.append(json.loads(self.rfile.read(length)))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.bodies = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _events(backends: Backends, name: str, flow_run_id: str) -> list[dict[str, Any]]:
    prefect = backends.get("prefect")
    return wait_for(
        lambda: prefect.events([name], f"prefect.flow-run.{flow_run_id}"),  # type: ignore[attr-defined]
        60,
        f"the event {name} about flow run {flow_run_id}",
    )


def test_a_match_shows_as_the_dag_run_note_the_flow_run_artifact_and_a_prefect_event(
    backends: Backends, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'history.db'}")
    b = _with(backends, {})
    result = shadow.run_and_record(store, b, WF, {"name": "published"}, origin="manual", timeout=300)
    assert result.verdict == "match", result.verdict_line
    assert publish.flush(90)
    done = {(d.kind, d.status, d.reason) for d in Outbox(store).list(WF)}
    assert done == {
        ("airflow_note", "sent", None),
        ("prefect_artifact", "sent", None),
        ("prefect_event", "sent", None),
    }

    airflow, prefect = b.get("airflow"), b.get("prefect")
    ref = result.primary.ref
    assert ref is not None and result.shadow.ref is not None
    run = airflow.client.get(f"/dags/{WF}/dagRuns/{ref.run_id}")  # type: ignore[attr-defined]
    note = run["note"]
    assert note.startswith("bridge verdict: match (") and len(note) <= 1000
    assert f"{DASHBOARD}/comparisons/{result.comparison_id}" in note
    assert f"comparison #{result.comparison_id} · origin manual" in note
    assert run["state"] == "success"  # update_mask=note: the state untouched

    flow_run_id = result.shadow.ref.run_id
    keyed = [a for a in prefect.artifacts(flow_run_id) if a["key"]]  # type: ignore[attr-defined]
    assert [a["key"] for a in keyed] == ["bridge-verdict-hello-bridge"]  # the flow's own have no key
    art = keyed[0]
    assert art["type"] == "markdown" and art["flow_run_id"] == flow_run_id
    assert "### bridge verdict: **match**" in art["data"]
    assert f"]({DASHBOARD}/comparisons/{result.comparison_id})" in art["data"]
    assert "| ran (start → end) |" in art["data"]
    latest = prefect.client.get("/artifacts/bridge-verdict-hello-bridge/latest")  # type: ignore[attr-defined]
    assert latest["data"] == art["data"] and latest["flow_run_id"] == flow_run_id

    (event,) = _events(b, "bridge.shadow.match", flow_run_id)
    assert event["resource"]["prefect.resource.id"] == f"bridge.comparison.{result.comparison_id}"
    roles = {r["prefect.resource.role"]: r["prefect.resource.id"] for r in event["related"]}
    assert roles == {"flow-run": f"prefect.flow-run.{flow_run_id}", "workflow": f"bridge.workflow.{WF}"}
    assert (
        event["payload"]["verdict"] == "match" and event["payload"]["comparison_id"] == result.comparison_id
    )

    # A person's note stays above the bridge's block, which is replaced, never appended again.
    airflow.client.patch(  # type: ignore[attr-defined]
        f"/dags/{WF}/dagRuns/{ref.run_id}",
        json={"note": "ops: checked by hand\n\n" + note},
        params={"update_mask": "note"},
    )
    airflow.publish(ref, "bridge verdict: mismatch (again)", "bridge verdict:")
    assert airflow.note(WF, ref.run_id) == "ops: checked by hand\n\nbridge verdict: mismatch (again)"  # type: ignore[attr-defined]

    families = {
        f.name: f for f in text_string_to_metric_families(metrics.exposition(store, b.catalog).decode())
    }
    (total,) = families["bridge_comparisons"].samples
    assert total.labels == {"workflow": WF, "verdict": "match", "origin": "manual"} and total.value == 1
    assert {s.labels["side"] for s in families["bridge_last_run_duration_seconds"].samples} == {
        "airflow",
        "prefect",
    }


def test_a_mismatch_alert_reaches_the_webhook_and_the_command(
    backends: Backends, tmp_path: Path, receiver: ThreadingHTTPServer
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'history.db'}")
    got = tmp_path / "command-got.json"
    script = f"import sys, pathlib; pathlib.Path({str(got)!r}).write_text(sys.stdin.read())"
    alerts = {
        "webhooks": [{"name": "ops-hook", "url": f"http://127.0.0.1:{receiver.server_port}/hook"}],
        "commands": [{"name": "record", "argv": [sys.executable, "-c", script], "on": ["mismatch"]}],
    }
    b = _with(backends, {"alerts": alerts}, wrong_conf=True)
    result = shadow.run_and_record(store, b, WF, {}, origin="manual", timeout=300)
    assert result.verdict == "mismatch", result.verdict_line
    assert publish.flush(90)

    (body,) = receiver.bodies  # type: ignore[attr-defined]
    assert body["event"] == "mismatch" and body["workflow"] == WF
    assert body["comparison_id"] == result.comparison_id
    assert body["text"].startswith(f"bridge: {WF} mismatch (") and f"{DASHBOARD}/comparisons/" in body["text"]
    assert body["runs"]["prefect"]["run"] == result.shadow.run
    assert json.loads(got.read_text())["comparison_id"] == result.comparison_id
    by_kind = {d.kind: d for d in Outbox(store).list(WF)}
    assert by_kind["webhook"].status == "sent" and by_kind["webhook"].destination == "ops-hook"
    assert by_kind["command"].status == "sent" and by_kind["command"].tries == 1
    assert result.shadow.ref is not None
    _events(b, "bridge.shadow.mismatch", result.shadow.ref.run_id)


def test_receivers_dead_or_silent_delay_nothing_and_each_failure_is_recorded(
    backends: Backends, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'history.db'}")
    started = time.monotonic()
    plain = shadow.run_and_record(store, _with(backends, {}), WF, {}, origin="manual", timeout=300)
    baseline = time.monotonic() - started - plain.wall_s  # what follows the run: record, publish
    assert publish.flush(90)

    dead = free_port()  # nothing listens there
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        hooks = [
            {"name": "dead", "url": f"http://127.0.0.1:{dead}/"},
            {"name": "silent", "url": f"http://127.0.0.1:{silent.getsockname()[1]}/"},
        ]
        b = _with(backends, {"alerts": {"webhooks": hooks, "timeout": 30, "tries": 3}}, wrong_conf=True)
        started = time.monotonic()
        result = shadow.run_and_record(store, b, WF, {}, origin="manual", timeout=300)
        took = time.monotonic() - started - result.wall_s
        assert result.verdict == "mismatch"
        # Sent in the run, the silent receiver alone would cost 30 s and the dead one 1.5 s more.
        assert took < baseline + 5, (
            f"record and publish took {took:.1f} s with dead receivers, {baseline:.1f} s without"
        )
        assert publish.flush(120)
    finally:
        silent.close()
    hooks_done = {d.destination: d for d in Outbox(store).list(WF) if d.kind == "webhook"}
    assert hooks_done["dead"].status == "failed" and hooks_done["dead"].tries == 3
    assert "cannot reach the receiver" in (hooks_done["dead"].reason or "")
    assert hooks_done["silent"].status == "failed" and "no answer within 30 s" in (
        hooks_done["silent"].reason or ""
    )
    assert all("127.0.0.1" not in (d.reason or "") for d in hooks_done.values())  # no URL in a reason
    print(f"\nafter the run: {baseline:.2f} s without alerts, {took:.2f} s with a dead and a silent receiver")
