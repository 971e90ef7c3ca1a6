"""Health probes for the stack's services: small HTTP checks that never raise."""

from __future__ import annotations

from typing import Any

import requests


def get_json(url: str, timeout: float = 3.0) -> Any | None:
    try:
        resp = requests.get(url, timeout=timeout)
    except requests.RequestException:
        return None
    if resp.status_code != 200:
        return None
    try:
        return resp.json()
    except ValueError:
        return {}


def post_json(url: str, body: dict[str, Any], timeout: float = 3.0) -> Any | None:
    try:
        resp = requests.post(url, json=body, timeout=timeout)
    except requests.RequestException:
        return None
    return resp.json() if resp.status_code == 200 else None


def airflow_component(base_url: str, component: str) -> bool:
    """True when Airflow's monitor says ``component`` (metadatabase, scheduler, dag_processor) is healthy."""
    health = get_json(f"{base_url}/api/v2/monitor/health")
    if not isinstance(health, dict):
        return False
    return (health.get(component) or {}).get("status") == "healthy"


def prefect_server(api_url: str) -> bool:
    return get_json(f"{api_url}/health") is not None


def prefect_worker(api_url: str, pool: str) -> bool:
    """True when a worker of ``pool`` has sent a heartbeat and is online."""
    workers = post_json(f"{api_url}/work_pools/{pool}/workers/filter", {}) or []
    return any(w.get("status") == "ONLINE" for w in workers)


def sqs(endpoint: str) -> bool:
    try:
        resp = requests.get(f"{endpoint}/moto-api/", timeout=3)
    except requests.RequestException:
        return False
    return resp.status_code < 500


def dashboard(base_url: str) -> bool:
    """`bridge serve` answers its health route."""
    try:
        return requests.get(f"{base_url}/healthz", timeout=3.0).status_code == 200
    except requests.RequestException:
        return False
