"""Airflow 3 Variables over the REST API v2: read, create or update, delete (one mixin of AirflowBackend).

A DAG reads its default target from one (``bridge_target__<dag_id>``, see ``AirflowBackend.default_target``).
"""

from __future__ import annotations

from urllib.parse import quote

from bridge.backends.http import RestClient
from bridge.errors import NotFoundError


def _q(value: str) -> str:
    return quote(value, safe="")


class AirflowVariables:
    """The Variables endpoints of the Airflow API behind ``client``."""

    client: RestClient

    def get_variable(self, key: str) -> str | None:
        """The Variable's value as stored (a string), or None if there is none."""
        try:
            body = self.client.get(f"/variables/{_q(key)}")
        except NotFoundError:
            return None
        return None if body.get("value") is None else str(body["value"])

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        """Create or update the Variable."""
        body = {"key": key, "value": value, "description": description}
        try:
            self.client.patch(f"/variables/{_q(key)}", json=body)
        except NotFoundError:
            self.client.post("/variables", json=body)

    def delete_variable(self, key: str) -> bool:
        """Delete the Variable; False if there was none."""
        try:
            self.client.request("DELETE", f"/variables/{_q(key)}")
        except NotFoundError:
            return False
        return True
