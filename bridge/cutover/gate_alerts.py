"""The evidence gates re-evaluated after each recorded comparison, so one turning red is an alert.

Only the gates a comparison can change are evaluated here (``EVIDENCE_GATES``: streak,
scheduled_evidence, no_failures), from the store alone: the live gates (calibration, parity, the
deployment and its worker) ask the servers, and `bridge gates` shows them. The previous state of each
gate is kept per workflow in the store (bridge.publish.outbox); a gate that held and does not now fires
``gate_red`` through bridge.publish.
"""

from __future__ import annotations

from bridge import publish
from bridge.config import Catalog
from bridge.cutover.evidence import recorded
from bridge.cutover.gates import LiveFacts, evaluate
from bridge.store import Store

EVIDENCE_GATES = ("streak", "scheduled_evidence", "no_failures")


def check(store: Store, catalog: Catalog, workflow: str) -> list[str]:
    """Evaluate ``workflow``'s evidence gates, remember them, alert on those turned red; return their
    names. Never raises (bridge.publish.gates_evaluated)."""
    entry = catalog.entry(workflow)
    try:
        history = recorded(store, workflow, entry.cutover.streak)
    except Exception:
        return []
    gates = evaluate(entry.cutover, history, entry.shadow.ignore, LiveFacts(entry.deployment))
    states = [(g.name, g.ok, g.detail) for g in gates if g.name in EVIDENCE_GATES]
    return publish.gates_evaluated(store, catalog, workflow, states)
