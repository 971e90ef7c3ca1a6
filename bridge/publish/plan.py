"""What one happening publishes, as outbox rows: a comparison (the note, the artifact, the Prefect event,
its alerts), a gate turning red, a stage change (their alerts)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bridge.config import Catalog
from bridge.publish import message
from bridge.publish.outbox import Delivery
from bridge.publish.settings import ALERT_VERDICTS, alert_settings, publish_settings


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _alerts(catalog: Catalog, event: Mapping[str, Any], comparison_id: int | None = None) -> list[Delivery]:
    name, workflow = str(event["event"]), str(event["workflow"])
    return [
        Delivery(d.kind, d.name, name, workflow, {"event": dict(event)}, comparison_id)
        for d in alert_settings(catalog).for_event(name)
    ]


def _facts(result: Any, link: str) -> dict[str, Any]:
    """What every message about a comparison says of it (the alert's fields, the Prefect event's payload)."""
    return {
        "workflow": result.workflow,
        "verdict": result.verdict,
        "summary": message.plain(result.verdict_line, 300),
        "origin": result.origin,
        "comparison_id": result.comparison_id,
        "link": link,
    }


def verdict_event(result: Any, link: str) -> dict[str, Any]:
    """The alert of a comparison: a Slack-compatible ``text``, then the same as fields."""
    sides = {s.side: s for s in result.sides()}
    text = (
        f"bridge: {result.workflow} {result.verdict} ({result.tally.describe()}), "
        f"comparison #{result.comparison_id} ({result.origin}): {link}"
    )
    return {
        "text": message.plain(text, 600),
        "event": result.verdict,
        **_facts(result, link),
        "runs": {name: {"run": s.run, "state": s.state, "url": s.url} for name, s in sides.items()},
        "at": _now(),
    }


def prefect_event(result: Any, link: str) -> dict[str, Any]:
    """``bridge.shadow.<verdict>`` about the comparison, the workflow and the Prefect flow run related."""
    related = [
        {
            "prefect.resource.id": f"bridge.workflow.{result.workflow}",
            "prefect.resource.role": "workflow",
            "prefect.resource.name": result.workflow,
        }
    ]
    ref = result.shadow.ref if result.shadow.side == "prefect" else result.primary.ref
    if ref is not None and ref.backend == "prefect" and ref.run_id:
        related.append(
            {"prefect.resource.id": f"prefect.flow-run.{ref.run_id}", "prefect.resource.role": "flow-run"}
        )
    return {
        "id": str(uuid.uuid4()),
        "occurred": _now(),
        "event": f"bridge.shadow.{result.verdict}",
        "resource": {
            "prefect.resource.id": f"bridge.comparison.{result.comparison_id}",
            "prefect.resource.name": f"{result.workflow} #{result.comparison_id}",
        },
        "related": related,
        "payload": _facts(result, link),
    }


def _side(result: Any, backend: str) -> Any:
    return next((s for s in result.sides() if s.ref is not None and s.ref.backend == backend), None)


def comparison(catalog: Catalog, result: Any) -> list[Delivery]:
    """The note on the Airflow run, the artifact on the Prefect run, the Prefect event, the alerts."""
    settings = publish_settings(catalog)
    link = settings.comparison_url(result.comparison_id)
    wf, cid, verdict = result.workflow, result.comparison_id, result.verdict
    out: list[Delivery] = []
    airflow, prefect = _side(result, "airflow"), _side(result, "prefect")
    if settings.airflow_note and airflow is not None:
        payload = {
            "dag_id": airflow.ref.workflow_id,
            "run_id": airflow.ref.run_id,
            "text": message.note_text(result, link),
        }
        out.append(Delivery("airflow_note", "airflow", verdict, wf, payload, cid))
    if settings.prefect_artifact and prefect is not None:
        payload = {
            "flow_run_id": prefect.ref.run_id,
            "workflow_id": prefect.ref.workflow_id,
            "key": f"bridge-verdict-{wf}",
            "markdown": message.artifact_markdown(result, link),
        }
        out.append(Delivery("prefect_artifact", "prefect", verdict, wf, payload, cid))
    if settings.prefect_event:
        out.append(
            Delivery("prefect_event", "prefect", verdict, wf, {"event": prefect_event(result, link)}, cid)
        )
    if verdict in ALERT_VERDICTS:
        out += _alerts(catalog, verdict_event(result, link), cid)
    return out


def gates_red(catalog: Catalog, workflow: str, turned: Sequence[tuple[str, str]]) -> list[Delivery]:
    """One alert naming the gates of ``workflow`` that held last time and do not now (name, detail)."""
    if not turned:
        return []
    names = ", ".join(name for name, _ in turned)
    event = {
        "text": message.plain(f"bridge: {workflow}: cutover gate(s) turned red: {names}", 600),
        "event": "gate_red",
        "workflow": workflow,
        "gates": [{"gate": n, "detail": message.plain(d, 300)} for n, d in turned],
        "link": f"{publish_settings(catalog).dashboard_url.rstrip('/')}/workflows/{workflow}",
        "at": _now(),
    }
    return _alerts(catalog, event)


def stage_change(catalog: Catalog, change: Any) -> list[Delivery]:
    """One alert for a recorded stage change (a bridge.cutover.ledger.StageChange)."""
    forced = " (FORCED past unmet gates)" if change.forced else ""
    event = {
        "text": message.plain(
            f"bridge: {change.workflow} moved {change.from_stage} → {change.to_stage}{forced} by "
            f"{change.actor}: {change.reason or 'no reason given'}",
            600,
        ),
        "event": "stage_change",
        "workflow": change.workflow,
        "from": change.from_stage,
        "to": change.to_stage,
        "actor": change.actor,
        "reason": message.plain(change.reason, 300),
        "forced": change.forced,
        "change_id": change.id,
        "link": f"{publish_settings(catalog).dashboard_url.rstrip('/')}/workflows/{change.workflow}",
        "at": _now(),
    }
    return _alerts(catalog, event)
