"""What the bridge publishes to Prefect 3 (a mixin of PrefectBackend): a markdown artifact on a flow run,
and events on the server's event bus, with the reads that find them again.

Artifacts (``POST /artifacts/``): a key is lowercase letters, digits and dashes (``artifact_key``); one key
per workflow makes the Artifacts page keep each workflow's verdicts as a history, and ``flow_run_id``
shows it in the run's own Artifacts tab. Events (``POST /events``, a JSON array, 204): each needs a client
``id`` and ``occurred``; ``related`` resources need ``prefect.resource.id`` and ``prefect.resource.role``,
so an automation triggered by ``bridge.shadow.<verdict>`` can act on the flow run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bridge.backends.base import RunRef
from bridge.backends.http import RestClient

EVENTS_PAGE = 50  # the server's cap on /events/filter's limit (INTERACTIVE_PAGE_SIZE)


def artifact_key(text: str) -> str:
    """``text`` as a Prefect artifact key: lowercase, anything but letters and digits a dash."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")


class PrefectPublishing:
    """Artifacts and events of the Prefect server behind ``client``."""

    client: RestClient

    def publish(self, ref: RunRef, text: str, key: str) -> None:
        """A markdown artifact of key ``key`` (made a valid key) on the flow run ``ref``."""
        body = {
            "key": artifact_key(key),
            "type": "markdown",
            "description": "The bridge's verdict on this run against its Airflow twin",
            "data": text,
            "flow_run_id": ref.run_id,
        }
        self.client.post("/artifacts/", json=body)

    def artifacts(self, flow_run_id: str) -> list[dict[str, Any]]:
        """The artifacts of one flow run, newest first."""
        body = {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}, "sort": "CREATED_DESC", "limit": 200}
        found = self.client.post("/artifacts/filter", json=body)
        return [dict(a) for a in found or []]

    def emit(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Post ``events`` to the server's event bus (what automations trigger on)."""
        self.client.post("/events", json=list(events))

    def events(self, names: Sequence[str], resource_id: str | None = None) -> list[dict[str, Any]]:
        """Events named ``names`` (exactly), about ``resource_id`` when given (as the resource or a related
        one), newest first, one page."""
        flt: dict[str, Any] = {"event": {"name": list(names)}, "order": "DESC"}
        if resource_id:
            flt["any_resource"] = {"id": [resource_id]}
        page = self.client.post("/events/filter", json={"filter": flt, "limit": EVENTS_PAGE})
        return [dict(e) for e in (page or {}).get("events", [])]
