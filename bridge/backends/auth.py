"""Credentials, kept apart from the clients: one small class per way a server wants to be asked."""

from __future__ import annotations

from collections.abc import Callable

import requests

from bridge.backends.http import check_url, describe_page, is_html, redact, server_message, wrong_server
from bridge.errors import AuthenticationError, BackendUnavailableError


class AirflowJWTAuth:
    """Airflow 3: exchange username/password for a JWT at POST /auth/token; renew it once on 401.

    Airflow 3 refuses HTTP basic auth; the password is only ever sent to /auth/token, in a request body.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout: float = 30.0,
        *,
        default_password: bool = False,
        prompt: Callable[[str], str] | None = None,
    ) -> None:
        """``default_password``: ``password`` is the local dev stack's default, tried because none was
        given; if Airflow refuses it, ``prompt`` (on a terminal) asks for the real one, once."""
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.timeout = timeout
        self.default_password = default_password
        self.prompt = prompt

    def __repr__(self) -> str:  # never show the password
        return f"AirflowJWTAuth({self.base_url!r}, {self.username!r})"

    def apply(self, session: requests.Session) -> None:
        session.headers["Authorization"] = f"Bearer {self._token()}"

    def renew(self, session: requests.Session) -> bool:
        self.apply(session)
        return True

    def _token(self) -> str:
        check_url("airflow", self.base_url)
        url = f"{self.base_url}/auth/token"
        try:
            resp = requests.post(
                url, json={"username": self.username, "password": self._password}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise BackendUnavailableError(
                f"airflow is unreachable at {redact(self.base_url)} ({type(exc).__name__}); is it running? "
                "(`bridge dev status`)",
                backend="airflow",
            ) from exc
        status = resp.status_code
        if status in (401, 403) and not is_html(resp) and self.default_password:
            self.default_password = False
            if self.prompt is None:
                raise AuthenticationError(
                    f"airflow refused user {self.username!r} with the local dev stack's default password, "
                    "tried because none was given: give yours with --password or BRIDGE_AIRFLOW_PASSWORD "
                    "(on a terminal you are asked for it)",
                    backend="airflow",
                    status=status,
                )
            self._password = self.prompt(
                f"Airflow at {redact(self.base_url)} refused the dev default; password for {self.username}: "
            )
            return self._token()
        if status in (401, 403) and not is_html(resp):
            raise AuthenticationError(
                f"airflow refused user {self.username!r}: wrong username or password "
                "(set --username/--password or BRIDGE_AIRFLOW_PASSWORD)",
                backend="airflow",
                status=status,
            )
        if status in (401, 403, 407):  # an HTML page: a single sign-on or a proxy in front of Airflow
            raise AuthenticationError(
                f"{redact(self.base_url)} refused POST /auth/token with {status} and "
                f"{describe_page(resp)} (a login page or a proxy?), not Airflow's JSON API",
                backend="airflow",
                status=status,
            )
        if status >= 500:
            raise BackendUnavailableError(
                f"airflow answered {status} at /auth/token: {server_message(resp)}",
                backend="airflow",
                status=status,
            )
        token = self._token_in(resp)
        if token is not None:
            return token
        wrong = wrong_server("airflow", self.base_url, f"{self.base_url}/api/v2", resp, "POST", "/auth/token")
        if wrong is not None:
            raise wrong
        raise AuthenticationError(
            f"airflow answered {status} at /auth/token: {server_message(resp)}",
            backend="airflow",
            status=status,
        )

    @staticmethod
    def _token_in(resp: requests.Response) -> str | None:
        """The access token of a successful answer, None for anything else."""
        if resp.status_code >= 400:
            return None
        try:
            body = resp.json()
        except ValueError:
            return None
        token = body.get("access_token") if isinstance(body, dict) else None
        return str(token) if token else None


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
