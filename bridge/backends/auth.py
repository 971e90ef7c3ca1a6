"""Credentials, kept apart from the clients: one small class per way a server wants to be asked."""

from __future__ import annotations

import requests

from bridge.errors import AuthenticationError, BackendUnavailableError


class AirflowJWTAuth:
    """Airflow 3: exchange username/password for a JWT at POST /auth/token; renew it once on 401.

    Airflow 3 refuses HTTP basic auth; the password is only ever sent to /auth/token, in a request body.
    """

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.timeout = timeout

    def __repr__(self) -> str:  # never show the password
        return f"AirflowJWTAuth({self.base_url!r}, {self.username!r})"

    def apply(self, session: requests.Session) -> None:
        session.headers["Authorization"] = f"Bearer {self._token()}"

    def renew(self, session: requests.Session) -> bool:
        self.apply(session)
        return True

    def _token(self) -> str:
        url = f"{self.base_url}/auth/token"
        try:
            resp = requests.post(
                url, json={"username": self.username, "password": self._password}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise BackendUnavailableError(
                f"airflow is unreachable at {self.base_url} ({type(exc).__name__}); is it running? "
                "(`bridge dev status`)",
                backend="airflow",
            ) from exc
        if resp.status_code in (401, 403):
            raise AuthenticationError(
                f"airflow refused user {self.username!r}: wrong username or password "
                "(set --username/--password or BRIDGE_AIRFLOW_PASSWORD)",
                backend="airflow",
                status=resp.status_code,
            )
        if resp.status_code >= 400:
            raise AuthenticationError(
                f"airflow answered {resp.status_code} at /auth/token",
                backend="airflow",
                status=resp.status_code,
            )
        return str(resp.json()["access_token"])


class BearerTokenAuth:
    """A fixed API key (Prefect Cloud's PREFECT_API_KEY, a managed Airflow's token)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "BearerTokenAuth(***)"

    def apply(self, session: requests.Session) -> None:
        session.headers["Authorization"] = f"Bearer {self._token}"

    def renew(self, session: requests.Session) -> bool:
        return False
