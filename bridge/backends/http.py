"""A lean REST layer for both backends: one session, retries for what may pass, errors mapped to ours.

Retry policy (after dagster-airlift's client): connection errors and 5xx are retried with backoff, three
tries in all; 4xx are never retried. Whatever fails becomes a BackendError subclass that carries the HTTP
status and the server's own message.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import requests

from bridge.errors import (
    AuthenticationError,
    BackendError,
    BackendUnavailableError,
    NotFoundError,
)

TRIES = 3
BACKOFF = 0.5  # seconds, doubled after each failed try


class Auth(Protocol):
    """Adds credentials to a session; may renew them once when the server answers 401."""

    def apply(self, session: requests.Session) -> None: ...

    def renew(self, session: requests.Session) -> bool: ...


class NoAuth:
    def apply(self, session: requests.Session) -> None:
        return None

    def renew(self, session: requests.Session) -> bool:
        return False


def server_message(resp: requests.Response) -> str:
    """The server's own explanation, in one line, from a JSON `detail` or the body's text."""
    try:
        body = resp.json()
    except ValueError:
        return (resp.text or resp.reason or "").strip().splitlines()[0][:300] if resp.text else resp.reason
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI validation errors
        detail = "; ".join(
            f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail if isinstance(d, dict)
        )
    elif isinstance(detail, dict):
        detail = detail.get("message") or detail.get("reason") or str(detail)
    return str(detail)[:300]


class RestClient:
    """JSON over HTTP against one base URL, for one named backend."""

    def __init__(self, backend: str, base_url: str, auth: Auth | None = None, timeout: float = 30.0) -> None:
        self.backend = backend
        self.base_url = base_url.rstrip("/")
        self.auth = auth or NoAuth()
        self.timeout = timeout
        self.session = requests.Session()
        self._authed = False

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request; return the decoded JSON body (None for an empty body)."""
        resp = self._send(method, path, **kwargs)
        if resp.status_code == 401 and self.auth.renew(self.session):
            resp = self._send(method, path, **kwargs)
        if resp.status_code >= 400:
            raise self._error(resp, method, path)
        if not resp.content:
            return None
        return resp.json()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=json, **kwargs)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self._authed:
            self.auth.apply(self.session)
            self._authed = True
        url = f"{self.base_url}{path}"
        kwargs.setdefault("timeout", self.timeout)
        delay = BACKOFF
        for attempt in range(1, TRIES + 1):
            try:
                resp = self.session.request(method, url, **kwargs)
            except requests.RequestException as exc:
                if attempt == TRIES:
                    raise BackendUnavailableError(
                        f"{self.backend} is unreachable at {self.base_url} ({type(exc).__name__}); "
                        f"is it running? (`bridge dev status`)",
                        backend=self.backend,
                    ) from exc
            else:
                if resp.status_code < 500 or attempt == TRIES:
                    return resp
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _error(self, resp: requests.Response, method: str, path: str) -> BackendError:
        msg = server_message(resp)
        status = resp.status_code
        text = f"{self.backend} answered {status} to {method} {path}: {msg}"
        if status in (401, 403):
            return AuthenticationError(text, backend=self.backend, status=status)
        if status == 404:
            return NotFoundError(text, backend=self.backend, status=status)
        if status >= 500:
            return BackendUnavailableError(text, backend=self.backend, status=status)
        return BackendError(text, backend=self.backend, status=status)
