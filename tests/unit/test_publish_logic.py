"""Publishing, our own logic with fakes: the note under 1,000 characters whatever a run holds, markdown
and secrets escaped, a person's note kept; retries with backoff bounded by tries and budget; what each
happening queues; the outbox's claims; [publish]/[alerts]/[metrics] checked."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge import publish, shadow
from bridge.backends.base import NOTE_LIMIT, RunRef, merge_note
from bridge.compare import model
from bridge.config import AirflowSettings, Catalog, PrefectSettings, WorkflowEntry
from bridge.errors import ConfigError
from bridge.publish import message, plan
from bridge.publish.outbox import Outbox
from bridge.publish.retry import DeliveryError, with_retries
from bridge.publish.settings import alert_settings, metrics_settings, publish_settings
from bridge.store import Store

DAG = "sales_daily"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _catalog(**sections: Any) -> Catalog:
    return Catalog(
        None,
        AirflowSettings(),
        PrefectSettings(),
        {DAG: WorkflowEntry(DAG, "sales/sales", "shadow")},
        sections=sections,
    )


def _side(side: str, state: str = "success", error: str | None = None) -> shadow.SideOutcome:
    run = "manual__2026" if side == "airflow" else "0f0e-flow-run"
    ref = RunRef(side, DAG if side == "airflow" else "sales/sales", run, "c-1", f"http://{side}/{run}")
    return shadow.SideOutcome(
        side, state, f"{side}:{run}", T0, T0 + timedelta(seconds=2), ref.url, error, {}, ref, elapsed_s=3.5
    )


def _result(verdict: str = model.MISMATCH, n_diffs: int = 2, error: str | None = None) -> shadow.ShadowResult:
    diffs = tuple(
        model.Difference(f"result.v_{i}_*[x](http://evil)", "<b>a|b</b>", "**bold**", model.CHANGED)
        for i in range(n_diffs)
    )
    tables = (model.TableDiff("price_history", ("id",), 10, 9, only_airflow=((1,),), only_airflow_count=1),)
    return shadow.ShadowResult(
        DAG,
        "c-1",
        {},
        verdict,
        _side("airflow"),
        _side("prefect", error=error),
        diffs,
        tables,
        4.0,
        deployment="sales/sales",
        comparison_id=42,
    )


# ---- the message --------------------------------------------------------------------------------


def test_the_note_has_verdict_counts_sides_and_link() -> None:
    note = message.note_text(_result(), "http://dash/comparisons/42")
    assert note.startswith("bridge verdict: mismatch (2 values, 1 row in price_history)")
    assert "comparison #42 · origin manual" in note
    assert "airflow success (waited 3.5 s, ran 2.0 s)" in note
    assert note.endswith("details: http://dash/comparisons/42")


def test_the_note_stays_under_the_limit_and_keeps_its_link_whatever_the_run_holds() -> None:
    huge = _result(n_diffs=500, error="Traceback " + "x" * 5000)
    note = message.note_text(huge, "http://dash/comparisons/42")
    assert len(note) <= NOTE_LIMIT
    assert note.endswith("details: http://dash/comparisons/42") and "…" in note


def test_secrets_are_masked_everywhere_a_run_s_text_goes() -> None:
    leaky = "cannot connect to postgresql://etl:hunter2@db:5432/wh (password=hunter2&token=abc123)"
    result = _result(error=leaky)
    for text in (message.note_text(result, "l"), message.artifact_markdown(result, "l")):
        assert "hunter2" not in text and "abc123" not in text
        assert "etl:***@db" in text or r"etl:\*\*\*@db" in text
    assert message.safe_conf({"api_token": "t0", "day": "x"}) == {"api_token": "***", "day": "x"}


def test_markdown_from_a_run_cannot_format_link_or_break_the_table() -> None:
    md = message.artifact_markdown(_result(), "http://dash/comparisons/42")
    assert "[x](http://evil)" not in md and r"\[x\]\(http://evil\)" in md
    assert "<b>" not in md and r"\<b\>a\|b\</b\>" in md
    assert "**bold**" not in md.split("**Value differences**")[1]
    assert "[Open it in the bridge dashboard](http://dash/comparisons/42)" in md
    assert "| price\\_history | 10 / 9 | 1 | \\(1,\\) |" in md


def test_a_person_s_note_is_kept_and_the_bridge_block_replaced() -> None:
    marker = message.NOTE_MARKER
    first = merge_note("checked by Ana", f"{marker} match", marker)
    assert first == f"checked by Ana\n\n{marker} match"
    assert merge_note(first, f"{marker} mismatch", marker) == f"checked by Ana\n\n{marker} mismatch"
    long = merge_note("y" * 2000, f"{marker} match", marker)
    assert len(long) <= NOTE_LIMIT and long.endswith(f"{marker} match")
    assert len(merge_note(None, marker + "z" * 3000, marker)) == NOTE_LIMIT


# ---- retries ------------------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _failing(n: int, retry: bool = True, cost: float = 0.0, clock: _Clock | None = None) -> Any:
    calls = []

    def send() -> None:
        calls.append(1)
        if clock:
            clock.now += cost
        if len(calls) <= n:
            raise DeliveryError(f"try {len(calls)} failed", retry=retry)

    send.calls = calls  # type: ignore[attr-defined]
    return send


def test_a_delivery_is_retried_with_doubling_waits_until_it_passes() -> None:
    clock = _Clock()
    attempt = with_retries(_failing(2), tries=3, backoff=0.5, sleep=clock.sleep, clock=lambda: clock.now)
    assert attempt.ok and attempt.tries == 3 and clock.slept == [0.5, 1.0]


def test_a_delivery_gives_up_after_its_tries_with_the_last_reason() -> None:
    clock = _Clock()
    attempt = with_retries(_failing(9), tries=3, sleep=clock.sleep, clock=lambda: clock.now)
    assert not attempt.ok and attempt.tries == 3 and attempt.reason == "try 3 failed (after 3 tries)"


def test_a_refusal_is_not_retried() -> None:
    clock = _Clock()
    send = _failing(9, retry=False)
    attempt = with_retries(send, tries=3, sleep=clock.sleep, clock=lambda: clock.now)
    assert (
        not attempt.ok
        and attempt.tries == 1
        and clock.slept == []
        and "not retried" in (attempt.reason or "")
    )


def test_the_budget_bounds_the_total_time() -> None:
    clock = _Clock()
    send = _failing(9, cost=8.0, clock=clock)  # each try hangs 8 s
    attempt = with_retries(
        send, tries=10, backoff=0.5, budget=20.0, sleep=clock.sleep, clock=lambda: clock.now
    )
    assert not attempt.ok and attempt.tries == 3 and "budget" in (attempt.reason or "")
    assert clock.now <= 20.0 + 8.0  # the budget, then one try's own time at most


# ---- what is queued -----------------------------------------------------------------------------


def test_a_mismatch_queues_note_artifact_event_and_the_receivers_that_want_it() -> None:
    catalog = _catalog(
        alerts={
            "webhooks": [
                {"name": "ops", "url": "http://hooks/x"},
                {"name": "gates", "url": "http://h/y", "on": ["gate_red"]},
            ],
            "commands": [{"argv": ["/bin/true"]}],
        },
        publish={"dashboard_url": "https://dash.example"},
    )
    rows = plan.comparison(catalog, _result())
    assert [(r.kind, r.destination) for r in rows] == [
        ("airflow_note", "airflow"),
        ("prefect_artifact", "prefect"),
        ("prefect_event", "prefect"),
        ("webhook", "ops"),
        ("command", "true"),
    ]
    note, artifact, event, hook, _ = rows
    assert (
        note.payload["run_id"] == "manual__2026"
        and "https://dash.example/comparisons/42" in note.payload["text"]
    )
    assert (
        artifact.payload["key"] == "bridge-verdict-sales_daily"
        and artifact.payload["flow_run_id"] == "0f0e-flow-run"
    )
    ev = event.payload["event"]
    assert ev["event"] == "bridge.shadow.mismatch"
    assert {
        "prefect.resource.id": "prefect.flow-run.0f0e-flow-run",
        "prefect.resource.role": "flow-run",
    } in ev["related"]
    assert hook.payload["event"]["text"].startswith("bridge: sales_daily mismatch (")
    assert "url" not in str(hook.payload).lower().replace("_url", "") or "hooks/x" not in str(hook.payload)


def test_a_match_alerts_nobody_and_each_publication_can_be_turned_off() -> None:
    catalog = _catalog(alerts={"webhooks": [{"url": "http://hooks/x"}]})
    assert [r.kind for r in plan.comparison(catalog, _result(model.MATCH, 0))] == [
        "airflow_note",
        "prefect_artifact",
        "prefect_event",
    ]
    off = _catalog(publish={"airflow_note": False, "prefect_artifact": False, "prefect_event": False})
    assert plan.comparison(off, _result()) == []


def test_stage_changes_and_gates_turning_red_alert(tmp_path: Path) -> None:
    from bridge.cutover.ledger import StageChange

    catalog = _catalog(alerts={"webhooks": [{"name": "all", "url": "http://hooks/x"}]})
    change = StageChange(DAG, "shadow", "prefect", T0, "ana", "all gates hold", forced=True, id=3)
    (row,) = plan.stage_change(catalog, change)
    assert row.event == "stage_change" and "shadow → prefect (FORCED" in row.payload["event"]["text"]
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    assert publish.gates_evaluated(store, catalog, DAG, [("streak", False, "2 recorded")]) == []  # never held
    assert publish.gates_evaluated(store, catalog, DAG, [("streak", True, "5 match")]) == []
    assert publish.gates_evaluated(store, catalog, DAG, [("streak", False, "#9 is mismatch")]) == ["streak"]
    assert (
        publish.gates_evaluated(store, catalog, DAG, [("streak", False, "#9 is mismatch")]) == []
    )  # still red
    assert publish.flush(30)
    kinds = [(d.event, d.status) for d in Outbox(store).list(DAG)]
    assert kinds == [("gate_red", "failed")]  # http://hooks/x does not resolve here: failed, recorded


def test_the_outbox_gives_each_delivery_to_one_sender(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    outbox = Outbox(store)
    ids = outbox.add(
        [publish.Delivery("webhook", "ops", "mismatch", DAG, {"event": {}}, 1) for _ in range(3)]
    )
    first, second = outbox.claim("a"), outbox.claim("b")
    assert [d.id for d in first] == ids and second == []
    outbox.finish(ids[0], True, 1, None)
    outbox.finish(ids[1], False, 3, "HTTP 500 (after 3 tries)")
    assert [(d.status, d.tries) for d in outbox.list(DAG)][::-1][:2] == [("sent", 1), ("failed", 3)]


# ---- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sections,error",
    [
        ({"alerts": {"on": ["mismatch", "sunrise"]}}, "unknown event(s) sunrise"),
        ({"alerts": {"webhooks": [{"name": "x"}]}}, "exactly one of `url` and `url_env`"),
        ({"alerts": {"webhooks": [{"url": "ftp://x"}]}}, "must be an http(s) URL"),
        ({"alerts": {"commands": [{"argv": []}]}}, "argv must be a non-empty list"),
        ({"alerts": {"tries": 0}}, "alerts.tries must be between 1 and 10"),
        ({"publish": {"dashboard_url": "dash"}}, "publish.dashboard_url must be an http(s) URL"),
        ({"metrics": {"window": 0}}, "metrics.window must be at least 1"),
    ],
)
def test_bad_settings_are_one_clear_error(sections: dict[str, Any], error: str) -> None:
    catalog = _catalog(**sections)
    with pytest.raises(ConfigError, match=error.replace("(", r"\(").replace(")", r"\)").replace("|", r"\|")):
        alert_settings(catalog)
        publish_settings(catalog)
        metrics_settings(catalog)


def test_a_webhook_url_from_the_environment_is_never_in_its_settings_repr() -> None:
    (hook,) = alert_settings(
        _catalog(alerts={"webhooks": [{"name": "slack", "url_env": "MY_HOOK"}]})
    ).destinations
    assert hook.resolved_url({"MY_HOOK": "https://hooks.slack.com/services/T/B/secret"}).endswith("/secret")
    with pytest.raises(ConfigError, match="MY_HOOK is not set"):
        hook.resolved_url({})
    assert "secret" not in repr(hook)


def test_defaults_publish_everything_and_alert_nobody() -> None:
    catalog = dataclasses.replace(_catalog())
    assert publish_settings(catalog).airflow_note and publish_settings(catalog).prefect_artifact
    assert alert_settings(catalog).destinations == () and metrics_settings(catalog).textfile is None


def test_a_stage_change_reaches_a_command_receiver(tmp_path: Path) -> None:
    """`bridge promote` through the switch (the fakes of test_switch_logic): its alert runs the command,
    the event as JSON on stdin, and the delivery is recorded sent."""
    import json
    import sys

    from bridge.cutover.moves import move
    from tests.unit.test_switch_logic import CATALOG as SWITCH_CATALOG
    from tests.unit.test_switch_logic import stack

    got = tmp_path / "event.json"
    script = f"import sys, pathlib; pathlib.Path({str(got)!r}).write_text(sys.stdin.read())"
    alerts = {"commands": [{"name": "log", "argv": [sys.executable, "-c", script], "on": ["stage_change"]}]}
    catalog = dataclasses.replace(SWITCH_CATALOG, sections={"alerts": alerts})
    backends, _ = stack("airflow")
    backends.catalog = catalog
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    result = move(backends, store, catalog, "update_prices_daily", "promote", actor="ana", reason="ready")  # type: ignore[arg-type]
    assert publish.flush(30)
    event = json.loads(got.read_text())
    assert (event["event"], event["from"], event["to"], event["actor"]) == (
        "stage_change",
        "airflow",
        "shadow",
        "ana",
    )
    assert event["change_id"] == result.change.id  # type: ignore[union-attr]
    assert [(d.kind, d.event, d.status) for d in Outbox(store).list()] == [
        ("command", "stage_change", "sent")
    ]
