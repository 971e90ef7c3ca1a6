"""A lean REST layer for both backends: one session, retries for what may pass, errors mapped to ours.

Retry policy (after dagster-airlift's client): connection errors and 5xx are retried with backoff, three
tries in all; 4xx are never retried. Whatever fails becomes a BackendError subclass that carries the HTTP
status and the server's own message. A URL that cannot be the backend's API (no scheme, an HTML page, the
other orchestrator) is a ConfigError that says so: the user must change it.
"""

from __future__ import annotations

import html
import os
import re
import time
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from bridge.errors import (
    AuthenticationError,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    NotFoundError,
    RejectedError,
)

TRIES = 3
BACKOFF = 0.5  # seconds, doubled after each failed try
PROBE_TIMEOUT = 5.0  # seconds for each request that asks a wrong-looking server what it is
API_NAMES = {"airflow": "an Airflow 3 API", "prefect": "a Prefect 3 API"}
LOOKS = {"airflow3": "Airflow 3's", "airflow2": "Airflow 2's", "prefect": "Prefect's"}
# What FastAPI (Prefect, Airflow) answers for a path it has no route for, not for a missing object.
ROUTE_MISSES = {"Not Found", "Method Not Allowed", "API route not found"}


class Auth(Protocol):
    """Adds credentials to a session; may renew them once when the server answers 401."""

    def apply(self, session: requests.Session) -> None: ...

    def renew(self, session: requests.Session) -> bool: ...


class NoAuth:
    def apply(self, session: requests.Session) -> None:
        return None

    def renew(self, session: requests.Session) -> bool:
        return False


def check_url(backend: str, url: str) -> None:
    """Raise a ConfigError unless ``url`` is an http(s) URL with a host, naming where it was set."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [ of an IPv6 host
        var = f"BRIDGE_{backend.upper()}_URL"
        raise ConfigError(
            f"the {backend} URL {redact(url)!r} (or {var}) is not a URL: an unclosed '[' of an IPv6 host?"
        ) from None
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # not a number, or past 65535
        port_ok = False
    if parts.scheme in ("http", "https") and parts.hostname and port_ok:
        return
    var = f"BRIDGE_{backend.upper()}_URL"
    given = os.environ.get(var, "").rstrip("/")
    shown = redact(given if given and url.startswith(given) else url)
    source = f"{var} {shown!r}" if given and url.startswith(given) else f"the {backend} URL {shown!r}"
    if not url:
        raise ConfigError(f"{source} is empty: give one like http://127.0.0.1:8080")
    if "://" not in url and ":/" not in url:
        raise ConfigError(f"{source} has no scheme: use http://{shown.removeprefix('//')}")
    if parts.scheme in ("http", "https") and parts.hostname and not port_ok:
        raise ConfigError(f"{source} has a port that is not a number from 1 to 65535")
    if parts.scheme in ("http", "https"):
        raise ConfigError(f"{source} names no host: give one like http://127.0.0.1:8080")
    raise ConfigError(f"{source} is not an http:// or https:// URL (like http://127.0.0.1:8080)")


def redact(url: str) -> str:
    """``url`` with any user:password@ part masked."""
    return re.sub(r"^((?:[a-z][a-z0-9+.-]*:)?//)?[^/@]*@", r"\1***@", url, flags=re.I)


def public_url(url: str) -> str:
    """``url`` without any user:password@ part: what a link the bridge prints or records may show."""
    return re.sub(r"^((?:[a-z][a-z0-9+.-]*:)?//)[^/@]*@", r"\1", url, flags=re.I)


def is_html(resp: requests.Response) -> bool:
    """True when the body is an HTML page (a login page, a proxy's error page, a UI)."""
    head = resp.text[:300].lstrip().lower() if resp.content else ""
    return "html" in resp.headers.get("Content-Type", "").lower() or head.startswith(("<!doctype", "<html"))


def describe_page(resp: requests.Response) -> str:
    """An HTML page in a few words: its title, and where a redirect led."""
    found = re.search(r"<title[^>]*>(.*?)</title>", resp.text, re.I | re.S)
    title = " ".join(html.unescape(found.group(1)).split())[:80] if found else ""
    text = f"an HTML page titled {title!r}" if title else "an HTML page"
    if not resp.history:
        return text
    landed = urlsplit(resp.url)  # no query (tokens, SAML requests), no user:password
    host = landed.hostname or ""
    return f"{text} (redirected to {landed.scheme}://{host}{f':{landed.port}' if landed.port else ''}{landed.path})"


def server_message(resp: requests.Response) -> str:
    """The server's own explanation, in one line, from a JSON `detail` or the body's text."""
    if is_html(resp):
        return f"{describe_page(resp)} (a login page or a proxy?)"
    try:
        body = resp.json()
    except ValueError:
        lines = (resp.text or "").strip().splitlines()
        return lines[0][:300] if lines else resp.reason or ""
    detail = body.get("detail", body.get("error", body)) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI validation errors
        detail = "; ".join(
            f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail if isinstance(d, dict)
        )
    elif isinstance(detail, dict):
        detail = detail.get("message") or detail.get("reason") or str(detail)
    return condense(str(detail))


def condense(text: str, limit: int = 300) -> str:
    """A server's explanation in one line: its first non-empty line (a jsonschema dump's first line names
    the param and the rule; the schema and instance follow it), whitespace folded, at most ``limit``."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    line = " ".join(first.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def identify(url: str, timeout: float = PROBE_TIMEOUT) -> tuple[str, str] | None:
    """What serves ``url``: ('airflow3' | 'airflow2' | 'prefect', its API URL), or None if unknown."""
    root = re.sub(r"(/api(/v[0-9]+)?)+$", "", url.rstrip("/"))
    probes = (
        ("airflow3", f"{root}/api/v2", "/monitor/health"),
        ("prefect", f"{root}/api", "/health"),
        ("airflow2", f"{root}/api/v1", "/health"),
    )
    for kind, api, path in probes:
        try:
            resp = requests.get(f"{api}{path}", timeout=timeout)
            body = resp.json() if resp.status_code == 200 else None
        except (requests.RequestException, ValueError):
            continue
        if (body is True) if kind == "prefect" else (isinstance(body, dict) and "metadatabase" in body):
            return kind, api
    return None


def wrong_server(
    backend: str, url: str, api_url: str, resp: requests.Response, method: str, path: str
) -> ConfigError | None:
    """A ConfigError when ``resp`` shows that ``url`` (the user's, ``api_url`` the one asked) is not
    ``backend``'s API: another orchestrator, a UI, an HTML page. None when it may well be."""
    expected = {"airflow": "airflow3", "prefect": "prefect"}.get(backend)
    api_name = API_NAMES.get(backend, f"{backend}'s API")
    url = redact(url)
    found = identify(api_url) if expected else None
    if found and found[0] == expected:
        if found[1] == api_url.rstrip("/"):
            return None  # the right server: its answer stands
        right = found[1].removesuffix("/api/v2") if backend == "airflow" else found[1]
        return ConfigError(
            f"{url} is {api_name.removesuffix(' API')} server, not the URL the bridge takes for it: use {redact(right)}"
        )
    if found and found[0] == "airflow2" and backend == "airflow":
        return ConfigError(
            f"{url} is Airflow 2 (/api/v1), not {api_name}: the bridge speaks Airflow 3's /api/v2"
        )
    if found:
        return ConfigError(f"{url} is not {api_name} (it looks like {LOOKS[found[0]]})")
    json_api = f"{backend.capitalize()}'s JSON API" if expected else "a JSON API"
    if is_html(resp):
        return ConfigError(
            f"{url} answered {method} {path} with {describe_page(resp)} (a login page or a proxy?), "
            f"not {json_api}"
        )
    try:
        resp.json()
    except ValueError:
        kind = resp.headers.get("Content-Type") or "no content type"
        return ConfigError(
            f"{url} answered {method} {path} with a body that is not JSON ({kind}), not {json_api}"
        )
    return None


class RestClient:
    """JSON over HTTP against one base URL, for one named backend."""

    def __init__(self, backend: str, base_url: str, auth: Auth | None = None, timeout: float = 30.0) -> None:
        self.backend = backend
        self.base_url = base_url.rstrip("/")
        self.auth = auth or NoAuth()
        self.timeout = timeout
        self.session = requests.Session()
        self._authed = False

    @property
    def shown_url(self) -> str:
        """The URL as the user gave it (Airflow's client adds /api/v2 to it)."""
        return self.base_url.removesuffix("/api/v2") if self.backend == "airflow" else self.base_url

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request; return the decoded JSON body (None for an empty body)."""
        resp = self._send(method, path, **kwargs)
        if resp.status_code == 401 and self.auth.renew(self.session):
            resp = self._send(method, path, **kwargs)
        if resp.status_code >= 400:
            raise self._error(resp, method, path)
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            error = wrong_server(self.backend, self.shown_url, self.base_url, resp, method, path)
            raise error or self._not_json(resp, method, path) from exc

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=json, **kwargs)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self._authed:
            check_url(self.backend, self.shown_url)
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
                        f"{self.backend} is unreachable at {redact(self.base_url)} ({type(exc).__name__}); "
                        f"is it running? (`bridge dev status`)",
                        backend=self.backend,
                    ) from exc
            else:
                if resp.status_code < 500 or attempt == TRIES:
                    return resp
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _not_json(self, resp: requests.Response, method: str, path: str) -> BackendError:
        kind = resp.headers.get("Content-Type") or "no content type"
        return BackendError(
            f"{self.backend} answered {method} {path} with a body that is not JSON ({kind})",
            backend=self.backend,
            status=resp.status_code,
        )

    def _error(self, resp: requests.Response, method: str, path: str) -> BackendError | ConfigError:
        msg = server_message(resp)
        status = resp.status_code
        if status in (404, 405) and (msg in ROUTE_MISSES or is_html(resp)):
            error = wrong_server(self.backend, self.shown_url, self.base_url, resp, method, path)
            if error is not None:
                return error
        text = f"{self.backend} answered {status} to {method} {path}: {msg}"
        kind: type[BackendError] = BackendError
        if status in (401, 403, 407):
            kind = AuthenticationError
        elif status == 404:
            kind = NotFoundError
        elif status in (400, 422):
            kind = RejectedError
        elif status >= 500:
            kind = BackendUnavailableError
        return kind(text, backend=self.backend, status=status, reason=msg)
