"""Publishing: a comparison's verdict written where people already look, best-effort.

After each recorded comparison (``bridge.shadow.record``): a note on the Airflow DAG run, a markdown
artifact on the Prefect flow run (key ``bridge-verdict-<workflow>``), a Prefect event
``bridge.shadow.<verdict>``, and the ``[alerts]`` receivers on ``mismatch``, ``shadow_failed``,
``missing``; after a gate turns red or a stage changes, their alerts. Each is queued in the store's outbox
(``outbox``) and sent by a background thread (``dispatch``), retried with backoff, recorded sent or
failed. Nothing here raises into a run: a problem is one warning line on stderr.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bridge.config import Catalog
from bridge.operations import Backends
from bridge.publish.dispatch import flush
from bridge.publish.outbox import Delivery, Outbox

__all__ = ["Delivery", "Outbox", "after_comparison", "after_stage_change", "flush", "gates_evaluated"]

log = logging.getLogger("bridge.publish")


def _queue(store: Any, backends: Backends, rows: Sequence[Delivery]) -> None:
    from bridge.publish import dispatch
    from bridge.store import Store

    if not rows or not isinstance(store, Store):  # a fake history (unit tests) publishes nothing
        return
    Outbox(store).add(rows)
    dispatch.kick(store, backends)


def after_comparison(store: Any, backends: Backends, result: Any) -> None:
    """Queue and start sending what the recorded comparison ``result`` publishes. Never raises."""
    from bridge.publish import plan

    try:
        _queue(store, backends, plan.comparison(backends.catalog, result))
    except Exception as exc:
        log.warning(
            "bridge: could not publish comparison #%s of %s: %s", result.comparison_id, result.workflow, exc
        )


def after_stage_change(store: Any, catalog: Catalog, change: Any) -> None:
    """Queue and start sending the alerts of a recorded stage change. Never raises."""
    from bridge.publish import plan

    try:
        _queue(store, Backends(catalog), plan.stage_change(catalog, change))
    except Exception as exc:
        log.warning("bridge: could not publish the stage change of %s: %s", change.workflow, exc)


def gates_evaluated(
    store: Any, catalog: Catalog, workflow: str, gates: Sequence[tuple[str, bool, str]]
) -> list[str]:
    """Remember ``workflow``'s gates (name, holds, detail); alert on those that held last time and do not
    now; return their names. Never raises."""
    from bridge.publish import plan
    from bridge.store import Store

    if not isinstance(store, Store):
        return []
    try:
        outbox = Outbox(store)
        before = outbox.gates(workflow)
        turned = [(name, detail) for name, ok, detail in gates if not ok and before.get(name)]
        outbox.save_gates(workflow, {name: ok for name, ok, _ in gates})
        _queue(store, Backends(catalog), plan.gates_red(catalog, workflow, turned))
    except Exception as exc:
        log.warning("bridge: could not check the gates of %s for alerts: %s", workflow, exc)
        return []
    return [name for name, _ in turned]
