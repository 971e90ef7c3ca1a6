"""One try of each kind of delivery. A failure is a DeliveryError whose reason names what went wrong and
never the receiver's URL (a webhook URL may hold a secret)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from typing import Any

from bridge.backends.base import RunRef
from bridge.errors import BackendUnavailableError, BridgeError, ConfigError
from bridge.operations import Backends
from bridge.publish.message import redact
from bridge.publish.outbox import Delivery
from bridge.publish.retry import DeliveryError
from bridge.publish.settings import AlertSettings, Destination


def webhook(url: str, event: Mapping[str, Any], timeout: float) -> None:
    """POST ``event`` as JSON; a 2xx is sent, a 5xx/408/429 or no answer is worth another try."""
    import requests

    try:
        resp = requests.post(url, json=dict(event), timeout=(min(timeout, 3.0), timeout))
    except requests.Timeout as exc:
        raise DeliveryError(f"no answer within {timeout:g} s ({type(exc).__name__})") from exc
    except requests.RequestException as exc:
        raise DeliveryError(f"cannot reach the receiver ({type(exc).__name__})") from exc
    if resp.status_code >= 300:
        retry = resp.status_code >= 500 or resp.status_code in (408, 429)
        raise DeliveryError(f"the receiver answered HTTP {resp.status_code}", retry=retry)


def command(argv: tuple[str, ...], event: Mapping[str, Any], timeout: float) -> None:
    """Run ``argv`` with ``event`` as JSON on stdin; exit 0 is sent."""
    try:
        done = subprocess.run(
            list(argv), input=json.dumps(dict(event)), capture_output=True, text=True, timeout=timeout
        )
    except FileNotFoundError as exc:
        raise DeliveryError(f"no such program {argv[0]!r}", retry=False) from exc
    except PermissionError as exc:
        raise DeliveryError(f"{argv[0]!r} is not executable", retry=False) from exc
    except subprocess.TimeoutExpired as exc:
        raise DeliveryError(f"still running after {timeout:g} s (killed)") from exc
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        raise DeliveryError(f"exit {done.returncode}: {redact(last[0])[:200]}")


def _backend(backends: Backends, name: str, delivery: Delivery, send: Any) -> None:
    try:
        send(backends.get(name))
    except BridgeError as exc:
        raise DeliveryError(redact(str(exc))[:300], retry=isinstance(exc, BackendUnavailableError)) from exc


def send(delivery: Delivery, backends: Backends, alerts: AlertSettings) -> None:
    """One try of ``delivery``."""
    p = delivery.payload
    if delivery.kind == "airflow_note":
        ref = RunRef("airflow", p["dag_id"], p["run_id"], p["run_id"])
        _backend(backends, "airflow", delivery, lambda b: b.publish(ref, p["text"], "bridge verdict:"))
    elif delivery.kind == "prefect_artifact":
        ref = RunRef("prefect", p.get("workflow_id", ""), p["flow_run_id"], p["flow_run_id"])
        _backend(backends, "prefect", delivery, lambda b: b.publish(ref, p["markdown"], p["key"]))
    elif delivery.kind == "prefect_event":
        _backend(backends, "prefect", delivery, lambda b: b.emit([p["event"]]))
    elif delivery.kind in ("webhook", "command"):
        dest = _destination(alerts, delivery)
        if dest.kind == "webhook":
            try:
                url = dest.resolved_url()
            except ConfigError as exc:
                raise DeliveryError(str(exc), retry=False) from exc
            webhook(url, p["event"], alerts.timeout)
        else:
            command(dest.argv, p["event"], alerts.timeout)
    else:
        raise DeliveryError(f"unknown kind of delivery {delivery.kind!r}", retry=False)


def _destination(alerts: AlertSettings, delivery: Delivery) -> Destination:
    for d in alerts.destinations:
        if d.name == delivery.destination and d.kind == delivery.kind:
            return d
    raise DeliveryError(
        f"no {delivery.kind} named {delivery.destination!r} in [alerts] any more", retry=False
    )
