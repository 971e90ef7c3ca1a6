"""The dashboard's ASGI app (Starlette): every route in :func:`routes`, each page one template.

    GET  /                              the workflows (?stage=…&verdict=… filter them)
    GET  /workflows/<workflow>          one workflow: picture, latest comparison, both runs, gates, audit
    POST /workflows/<workflow>/move     promote / cutover / retire / rollback (token + CSRF: bridge.serve.guard)
    GET  /comparisons/<comparison_id>   one comparison, linkable
    GET  /healthz                       "ok" (the dev stack's health check)
    GET  /metrics                       the store's Prometheus metrics (bridge.metrics), text format

Pages are read-only unless a token is configured; every value is escaped by the shared templates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bridge.errors import BridgeError
from bridge.report.templating import render_template
from bridge.report.view import VERDICTS
from bridge.serve.guard import COOKIE, Guard, Refused
from bridge.serve.source import OFFERED, Source

STAGES = ("airflow", "shadow", "prefect", "retired")
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
BackendsFactory = Callable[[], Any]
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM = 16_384


def workflow_href(name: Any) -> str:
    return f"/workflows/{quote(str(name), safe='')}"


def comparison_href(comparison_id: Any) -> str:
    return f"/comparisons/{int(comparison_id)}"


class Pages:
    def __init__(self, source: Source, guard: Guard, backends: BackendsFactory | None = None) -> None:
        self.source = source
        self.guard = guard
        self.backends = backends

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        text = render_template(
            template,
            writable=self.guard.writable,
            workflow_href=workflow_href,
            comparison_href=comparison_href,
            csp_meta=False,
            **context,
        )
        return HTMLResponse(text, status_code=status, headers=HEADERS)

    def problem(self, status: int, message: str) -> HTMLResponse:
        return self.page("dashboard/problem.html", status=status, status_code=status, message=message)

    def index(self, request: Request) -> Response:
        stage = request.query_params.get("stage") or None
        verdict = request.query_params.get("verdict") or None
        if stage not in (None, *STAGES) or verdict not in (None, *VERDICTS, "none"):
            return self.problem(
                400,
                "unknown filter: stage is one of airflow, shadow, prefect, retired; "
                f"verdict one of {', '.join((*VERDICTS, 'none'))}",
            )
        rows = self.source.overview(stage, verdict)
        return self.page(
            "dashboard/index.html", rows=rows, stage=stage, verdict=verdict, stages=STAGES, verdicts=VERDICTS
        )

    def workflow(self, request: Request) -> Response:
        name = request.path_params["workflow"]
        found = self.source.workflow(name)
        if found is None:
            return self.problem(404, f"no workflow {name!r} in the catalog or the history store")
        session, new = request.cookies.get(COOKIE), False
        if self.guard.writable and not session:
            session, new = self.guard.new_session(), True
        csrf = self.guard.csrf_for(session) if self.guard.writable and session else ""
        response = self.page("dashboard/workflow.html", name=name, csrf=csrf, **found)
        if new and session:
            response.set_cookie(COOKIE, session, httponly=True, samesite="strict", path="/")
        return response

    def comparison(self, request: Request) -> Response:
        found = self.source.comparison(request.path_params["comparison_id"])
        if found is None:
            return self.problem(
                404, f"no comparison #{request.path_params['comparison_id']} in the history store"
            )
        return self.page("dashboard/comparison.html", **found)

    async def move(self, request: Request) -> Response:
        name = request.path_params["workflow"]
        body = await request.body()
        if len(body) > MAX_FORM or not request.headers.get("content-type", "").startswith(FORM_TYPE):
            return self.problem(400, f"a move is a form ({FORM_TYPE}) of at most {MAX_FORM} bytes")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        own = f"{request.url.scheme}://{request.url.netloc}"
        try:
            actor = self.guard.check(request.cookies, form, request.headers.get("origin"), own)
        except Refused as exc:
            return self.problem(exc.status, str(exc))
        verb = form.get("verb", "")
        found = await run_in_threadpool(self.source.workflow, name)
        if found is None:
            return self.problem(404, f"no workflow {name!r} in the catalog or the history store")
        if verb not in OFFERED.get(found["row"]["stage"], ("rollback",)):
            return self.problem(
                400, f"{verb!r} is not a move the dashboard offers from stage {found['row']['stage']}"
            )
        if self.backends is None:
            return self.problem(503, "this dashboard was started without backends: it cannot move anything")
        lines: list[str] = []
        try:
            result = await run_in_threadpool(self._move, name, verb, actor, form["reason"].strip(), lines)
        except BridgeError as exc:
            return self.problem(409, f"{verb} {name} refused: {exc}")
        return self.page("dashboard/moved.html", name=name, verb=verb, result=result, lines=lines)

    def _move(self, name: str, verb: str, actor: str, reason: str, lines: list[str]) -> Any:
        from bridge.cutover.moves import move

        assert self.backends is not None
        return move(
            self.backends(),
            self.source.store,
            self.source.declared,
            name,
            verb,
            actor=actor,
            reason=reason,
            say=lines.append,
        )


def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


def metrics_endpoint(source: Source) -> Callable[[Request], Response]:
    """``/metrics``: the same series as ``bridge metrics``, read from the store at each scrape."""

    def metrics(request: Request) -> Response:
        from bridge import metrics as prometheus

        body = prometheus.exposition(source.store, source.declared)
        return Response(body, media_type=prometheus.CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    return metrics


def routes(pages: Pages) -> list[BaseRoute]:
    """Every route of the dashboard, in one place."""
    return [
        Route("/", pages.index, name="index"),
        Route("/workflows/{workflow:str}", pages.workflow, name="workflow"),
        Route("/workflows/{workflow:str}/move", pages.move, methods=["POST"], name="move"),
        Route("/comparisons/{comparison_id:int}", pages.comparison, name="comparison"),
        Route("/healthz", healthz, name="healthz"),
        Route("/metrics", metrics_endpoint(pages.source), name="metrics"),
    ]


def create_app(
    source: Source,
    token: str | None = None,
    backends: BackendsFactory | None = None,
    extra: Sequence[BaseRoute] = (),
    key: bytes | None = None,
) -> Starlette:
    """The dashboard over ``source``; ``token`` (else read-only) lets it move stages through
    ``backends()`` (the CLI's moves, audited as ``dashboard:<who>``); ``extra`` routes are added."""
    pages = Pages(source, Guard(token, key), backends)
    return Starlette(routes=[*routes(pages), *extra])
