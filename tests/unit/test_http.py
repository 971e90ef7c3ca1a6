"""Retry policy of the REST layer against a tiny local HTTP server: 5xx retried, 4xx never."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bridge.backends import http
from bridge.errors import BackendError, BackendUnavailableError, NotFoundError


class JSONHandler(BaseHTTPRequestHandler):
    """A quiet handler that answers JSON."""

    def reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class Script:
    def __init__(self) -> None:
        self.replies: list[tuple[int, dict]] = []
        self.hits = 0


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Script]]:
    monkeypatch.setattr(http, "BACKOFF", 0.01)
    script = Script()

    class Handler(JSONHandler):
        def do_GET(self) -> None:
            script.hits += 1
            self.reply(*(script.replies.pop(0) if script.replies else (200, {"ok": True})))

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", script
    srv.shutdown()
    srv.server_close()


def test_5xx_is_retried_until_it_passes(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [(503, {"detail": "busy"}), (502, {"detail": "busy"})]
    assert http.RestClient("x", url).get("/thing") == {"ok": True}
    assert script.hits == 3


def test_5xx_three_times_is_unavailable_with_status_and_message(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [(500, {"detail": "db down"})] * 3
    with pytest.raises(BackendUnavailableError) as err:
        http.RestClient("x", url).get("/thing")
    assert err.value.status == 500 and "db down" in str(err.value) and script.hits == 3


def test_4xx_is_never_retried(server: tuple[str, Script]) -> None:
    url, script = server
    script.replies = [(404, {"detail": "no such dag"})]
    with pytest.raises(NotFoundError, match="no such dag"):
        http.RestClient("x", url).get("/thing")
    script.replies = [(422, {"detail": [{"loc": ["body", "logical_date"], "msg": "Field required"}]})]
    with pytest.raises(BackendError, match=r"body\.logical_date: Field required") as err:
        http.RestClient("x", url).get("/thing")
    assert err.value.status == 422 and script.hits == 2


def test_connection_refused_is_unavailable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BackendUnavailableError, match="unreachable"):
        http.RestClient("airflow", f"http://127.0.0.1:{port}").get("/dags")


def test_an_expired_token_is_renewed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's JWT expires: the first 401 fetches a new token and the request is sent again, once."""
    from bridge.backends.auth import AirflowJWTAuth

    issued: list[str] = []
    seen: list[str | None] = []

    class Handler(JSONHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            issued.append(f"token-{len(issued) + 1}")
            self.reply(201, {"access_token": issued[-1]})

        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            ok = self.headers.get("Authorization") == "Bearer token-2"
            self.reply(200 if ok else 401, {"dags": []} if ok else {"detail": "Token expired"})

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        client = http.RestClient("airflow", f"{url}/api/v2", AirflowJWTAuth(url, "u", "p"))
        assert client.get("/dags") == {"dags": []}
        assert seen == ["Bearer token-1", "Bearer token-2"] and issued == ["token-1", "token-2"]
        issued.append("token-x")  # from now on every token is refused: renewed once, then an auth error
        seen.clear()
        from bridge.errors import AuthenticationError

        with pytest.raises(AuthenticationError):
            http.RestClient("airflow", f"{url}/api/v2", AirflowJWTAuth(url, "u", "p")).get("/dags")
        assert len(seen) == 2
    finally:
        srv.shutdown()
        srv.server_close()
