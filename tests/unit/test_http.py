"""Retry policy of the REST layer against a tiny local HTTP server: 5xx retried, 4xx never."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bridge.backends import http
from bridge.errors import (
    AuthenticationError,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    NotFoundError,
)


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


# -- servers that are not the API: an HTML page, the other orchestrator, a URL without a scheme -----------
LOGIN = "<!doctype html><html><head><title>Sign in &middot; Corp SSO</title></head><body>form</body></html>"
Route = tuple[int, str, str, dict[str, str]]  # status, content type, body, extra headers


@pytest.fixture()
def pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, Route]]]:
    """A server answering ``routes[path]`` (any method), else a 200 HTML login page."""
    monkeypatch.setattr(http, "BACKOFF", 0.01)
    routes: dict[str, Route] = {}

    class Handler(JSONHandler):
        def answer(self) -> None:
            if self.headers.get("Content-Length"):
                self.rfile.read(int(self.headers["Content-Length"]))
            status, ctype, body, extra = routes.get(self.path.split("?")[0], (200, "text/html", LOGIN, {}))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = answer

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", routes
    srv.shutdown()
    srv.server_close()


def js(status: int, body: object) -> Route:
    return status, "application/json", json.dumps(body), {}


def test_an_html_page_is_one_line_naming_it_not_a_traceback(pages: tuple[str, dict[str, Route]]) -> None:
    url, _ = pages
    for backend, api in (("airflow", "Airflow's"), ("prefect", "Prefect's")):
        with pytest.raises(ConfigError) as err:
            http.RestClient(backend, f"{url}/api/v2" if backend == "airflow" else url).get("/dags")
        assert str(err.value) == (
            f"{url} answered GET /dags with an HTML page titled 'Sign in · Corp SSO' (a login page or a "
            f"proxy?), not {api} JSON API"
        )
        assert err.value.exit_code == 2


def test_a_redirect_to_a_login_page_names_where_it_led_without_its_query(
    pages: tuple[str, dict[str, Route]],
) -> None:
    url, routes = pages
    routes["/api/v2/dags"] = (302, "text/html", "", {"Location": "/login?SAMLRequest=secret-ish"})
    with pytest.raises(ConfigError, match=r"\(redirected to http://127\.0\.0\.1:\d+/login\)") as err:
        http.RestClient("airflow", f"{url}/api/v2").get("/dags")
    assert "secret-ish" not in str(err.value)


def test_an_html_error_page_keeps_its_exit_code(pages: tuple[str, dict[str, Route]]) -> None:
    """A proxy's 502 page is down (3), an SSO's 403 page refuses (3): named as pages, not as markup."""
    url, routes = pages
    routes["/x/thing"] = (502, "text/html", "<html><title>502 Bad Gateway</title></html>", {})
    with pytest.raises(BackendUnavailableError, match=r"502 .*HTML page titled '502 Bad Gateway'") as down:
        http.RestClient("x", f"{url}/x").get("/thing")
    routes["/x/thing"] = (403, "text/html", LOGIN, {})
    with pytest.raises(AuthenticationError, match=r"403 .*a login page or a proxy") as refused:
        http.RestClient("x", f"{url}/x").get("/thing")
    assert down.value.exit_code == refused.value.exit_code == 3
    assert "<" not in str(down.value) + str(refused.value)


def test_an_sso_in_front_of_airflow_token_endpoint(pages: tuple[str, dict[str, Route]]) -> None:
    """POST /auth/token redirected to a login page is exit 2; a login page with 401 is a refusal, exit 3."""
    from bridge.backends.airflow import AirflowBackend

    url, routes = pages
    routes["/auth/token"] = (302, "text/html", "", {"Location": "/sso/login"})
    with pytest.raises(ConfigError, match=r"answered POST /auth/token with an HTML page titled 'Sign in"):
        AirflowBackend(url, "u", "p").list_workflows()
    routes["/auth/token"] = (401, "text/html", LOGIN, {})
    with pytest.raises(
        AuthenticationError, match=r"refused POST /auth/token with 401 and an HTML page"
    ) as err:
        AirflowBackend(url, "u", "p").list_workflows()
    assert "wrong username" not in str(err.value)
    routes["/auth/token"] = js(200, {"no": "token"})
    with pytest.raises(AuthenticationError, match="airflow answered 200 at /auth/token"):
        AirflowBackend(url, "u", "p").list_workflows()


def test_a_url_without_a_scheme_says_which_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge.backends.airflow import AirflowBackend
    from bridge.backends.prefect import PrefectBackend

    monkeypatch.delenv("BRIDGE_AIRFLOW_URL", raising=False)
    monkeypatch.delenv("BRIDGE_PREFECT_URL", raising=False)
    with pytest.raises(ConfigError) as err:
        AirflowBackend("localhost:8080", "u", "p").list_workflows()
    assert str(err.value) == "the airflow URL 'localhost:8080' has no scheme: use http://localhost:8080"
    assert err.value.exit_code == 2
    monkeypatch.setenv("BRIDGE_AIRFLOW_URL", "127.0.0.1:8080")
    with pytest.raises(
        ConfigError, match=r"^BRIDGE_AIRFLOW_URL '127\.0\.0\.1:8080' has no scheme: use http://127"
    ):
        AirflowBackend("127.0.0.1:8080", "u", "p").list_workflows()
    monkeypatch.setenv("BRIDGE_PREFECT_URL", "me:s3cret@127.0.0.1:4200/api")
    with pytest.raises(ConfigError, match=r"has no scheme: use http://\*\*\*@127\.0\.0\.1:4200/api$") as err:
        PrefectBackend("me:s3cret@127.0.0.1:4200/api").list_workflows()
    assert "s3cret" not in str(err.value)
    with pytest.raises(ConfigError, match="'ftp://host/api' is not an http:// or https:// URL"):
        http.RestClient("prefect", "ftp://host/api").get("/health")


PREFECT = {"/api/health": js(200, True), "/api/deployments/filter": js(200, [])}
AIRFLOW3 = {"/api/v2/monitor/health": js(200, {"metadatabase": {"status": "healthy"}})}


def test_the_other_orchestrator_is_named(pages: tuple[str, dict[str, Route]]) -> None:
    """Probed only once something looks wrong: the Prefect server as Airflow, Airflow as Prefect, Airflow 2."""
    from bridge.backends.airflow import AirflowBackend
    from bridge.backends.prefect import PrefectBackend

    url, routes = pages
    routes.update({"/auth/token": js(404, {"detail": "Not Found"}), **PREFECT})
    with pytest.raises(ConfigError) as err:
        AirflowBackend(url, "u", "p").list_workflows()
    assert str(err.value) == f"{url} is not an Airflow 3 API (it looks like Prefect's)"
    with pytest.raises(
        ConfigError, match=r"is a Prefect 3 server, not the URL the bridge takes for it: use .*/api$"
    ):
        PrefectBackend(url).list_workflows()  # the UI's URL, not the API's
    routes.clear()
    routes.update({"/api/deployments/filter": js(405, {"detail": "Method Not Allowed"}), **AIRFLOW3})
    with pytest.raises(ConfigError) as err:
        PrefectBackend(f"{url}/api").list_workflows()
    assert str(err.value) == f"{url}/api is not a Prefect 3 API (it looks like Airflow 3's)"
    routes.clear()
    routes.update({"/auth/token": js(404, {"detail": "Not Found"})})
    routes["/api/v1/health"] = js(200, {"metadatabase": {"status": "healthy"}})
    with pytest.raises(ConfigError, match=r"is Airflow 2 \(/api/v1\), not an Airflow 3 API"):
        AirflowBackend(url, "u", "p").list_workflows()


def test_a_404_of_the_right_server_stays_not_found(pages: tuple[str, dict[str, Route]]) -> None:
    url, routes = pages
    routes.update({"/api/v2/dags/nope": js(404, {"error": "API route not found"}), **AIRFLOW3})
    with pytest.raises(NotFoundError, match="airflow answered 404 to GET /dags/nope: API route not found"):
        http.RestClient("airflow", f"{url}/api/v2").get("/dags/nope")
    routes["/api/deployments/name/a/b"] = js(404, {"detail": "Deployment not found"})
    with pytest.raises(NotFoundError, match="Deployment not found"):
        http.RestClient("prefect", f"{url}/api").get("/deployments/name/a/b")
