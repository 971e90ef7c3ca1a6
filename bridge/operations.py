"""The one implementation behind both CLIs: list, trigger, wait, observe, status, pause, resume.

CLIs parse and print; everything they do goes through here.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.backends.base import Backend, Observation, Progress, RunRef, RunState, RunStatus, run_label
from bridge.conf import fit_parameters
from bridge.conf import json_kind as json_kind  # re-exported: the CLIs read a --conf through here
from bridge.conf import parse_conf as parse_conf
from bridge.config import Catalog
from bridge.errors import (
    BackendUnavailableError,
    ConfigError,
    NotStartingError,
    PausedWorkflowError,
    UnknownWorkflowError,
    UsageError,
)

BACKEND_CHOICES = ("auto", "airflow", "prefect")
DEV_HOSTS = ("127.0.0.1", "localhost")
DEV_PASSWORD = "admin"  # the local dev stack's documented default (bridge dev up)


@dataclass(frozen=True)
class Credentials:
    username: str | None = None
    password: str | None = field(default=None, repr=False)


class Backends:
    """Creates each backend once, when first needed (so --list on one side never pays for the other)."""

    def __init__(
        self,
        catalog: Catalog,
        creds: Credentials = Credentials(),
        url: str | None = None,
        url_for: str | None = None,
        prompt: Callable[[str], str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        import os

        self.catalog = catalog
        self.creds = creds
        self.url = url
        self.url_for = url_for
        self.prompt = prompt
        self.env = os.environ if env is None else env
        self._made: dict[str, Backend] = {}

    def get(self, name: str) -> Backend:
        if name not in self._made:
            self._made[name] = self._make(name)
        return self._made[name]

    def _url(self, name: str, default: str) -> str:
        return self.url if self.url and self.url_for in (name, None) else default

    def _make(self, name: str) -> Backend:
        if name == "airflow":
            from bridge.backends.airflow import AirflowBackend
            from bridge.backends.http import check_url

            url = self._url("airflow", self.catalog.airflow.url)
            check_url("airflow", url)  # a URL that is none is exit 2 before a password is looked for
            username = self.creds.username or self.catalog.airflow.username
            password = self._password(url, username)
            return AirflowBackend(
                url,
                username,
                password or DEV_PASSWORD,
                self.catalog.airflow.timeout,
                default_password=password is None,
                prompt=self.prompt,
            )
        if name == "prefect":
            from bridge.backends.prefect import PrefectBackend

            return PrefectBackend(
                self._url("prefect", self.catalog.prefect.url),
                self.catalog.prefect.ui_url,
                self.env.get("PREFECT_API_KEY") or None,
                self.catalog.prefect.timeout,
            )
        raise UsageError(f"unknown backend {name!r}; use one of {', '.join(BACKEND_CHOICES)}")

    def _password(self, url: str, username: str) -> str | None:
        """The password given (flag, environment, a terminal's prompt); None for a local Airflow with none
        given: the dev stack's default is tried, and a refusal says so (or asks, on a terminal)."""
        if self.creds.password:
            return self.creds.password
        if self.env.get("BRIDGE_AIRFLOW_PASSWORD"):
            return self.env["BRIDGE_AIRFLOW_PASSWORD"]
        from urllib.parse import urlsplit

        if urlsplit(url).hostname in DEV_HOSTS:
            return None
        if self.prompt:
            return self.prompt(f"Airflow password for {username} at {url}: ")
        raise ConfigError("no Airflow password: set BRIDGE_AIRFLOW_PASSWORD or pass --password")


# -- list -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkflowRow:
    """One line of --list; None where the side that runs it does not say (no schedule, no run yet)."""

    id: str
    stage: str
    schedule: str | None
    paused: bool | None
    last_state: str | None
    known_by: tuple[str, ...]
    deployment: str | None


def list_workflows(backends: Backends, only: str | None = None) -> tuple[list[WorkflowRow], list[str]]:
    """Every workflow either side (or the catalog) knows, joined on dag id. Also the warnings to show."""
    catalog = backends.catalog
    found: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    answered = 0
    for name in (only,) if only else ("airflow", "prefect"):
        try:
            workflows = backends.get(name).list_workflows()
        except BackendUnavailableError as exc:
            warnings.append(f"warning: {exc}")
            continue
        answered += 1
        for wf in workflows:
            dag_id = wf.id if name == "airflow" else (catalog.dag_for_deployment(wf.id) or wf.id)
            found.setdefault(dag_id, {})[name] = wf
    if not answered:
        raise BackendUnavailableError("; ".join(w.removeprefix("warning: ") for w in warnings))
    for dag_id in catalog.workflows:
        found.setdefault(dag_id, {})
    rows = []
    for dag_id in sorted(found):
        seen = found[dag_id]
        entry = catalog.entry(dag_id)
        primary = seen.get("prefect" if entry.stage == "prefect" else "airflow") or next(
            iter(seen.values()), None
        )
        rows.append(
            WorkflowRow(
                id=dag_id,
                stage=entry.stage if dag_id in catalog.workflows or "airflow" in seen else "prefect",
                schedule=(
                    f"{primary.schedule} {primary.timezone or ''}".strip()
                    if primary and primary.schedule
                    else None
                ),
                paused=primary.paused if primary else None,
                last_state=(primary.last_run_state.value if primary and primary.last_run_state else None),
                known_by=tuple(sorted(seen)),
                deployment=entry.deployment,
            )
        )
    return rows, warnings


# -- trigger ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    backend: str
    workflow_id: str
    params: dict[str, Any]


def new_correlation_id() -> str:
    return f"bridge__{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}_{secrets.token_hex(4)}"


def resolve(catalog: Catalog, dag_id: str, backend: str, conf: Mapping[str, Any]) -> Target:
    """Which backend runs this workflow, under which name, with which parameters."""
    if backend not in BACKEND_CHOICES:
        raise UsageError(f"--backend must be one of {', '.join(BACKEND_CHOICES)}, not {backend!r}")
    entry = catalog.entry(dag_id)
    chosen = (
        backend if backend != "auto" else ("prefect" if entry.stage in ("prefect", "retired") else "airflow")
    )
    if chosen == "airflow":
        return Target("airflow", dag_id, dict(conf))
    if not entry.deployment:
        raise UnknownWorkflowError(dag_id, [d for d, e in catalog.workflows.items() if e.deployment])
    return Target("prefect", entry.deployment, entry.params.apply(conf))


def trigger(
    backends: Backends,
    dag_id: str,
    conf: Mapping[str, Any],
    backend: str = "auto",
    correlation_id: str | None = None,
    *,
    unpause: bool = False,
    waiting: bool = False,
    say: Callable[[str], object] = lambda line: None,
) -> RunRef:
    """Trigger ``dag_id`` where it runs, once ``ensure_startable`` says a run can start there."""
    target = resolve(backends.catalog, dag_id, backend, conf)
    params = target.params
    if target.backend == "prefect":
        params = flow_parameters(backends, dag_id, params, say)
    ensure_startable(backends, target.backend, target.workflow_id, unpause=unpause, waiting=waiting, say=say)
    return backends.get(target.backend).trigger(
        target.workflow_id, params, correlation_id or new_correlation_id()
    )


def flow_parameters(
    backends: Backends,
    dag_id: str,
    params: Mapping[str, Any],
    say: Callable[[str], object] = lambda line: None,
) -> dict[str, Any]:
    """``params`` (already mapped by the catalog) fitted to what dag_id's Prefect flow takes, before
    anything is triggered: a key it does not take is refused (exit 2) or, with ``params.unknown =
    "drop"``, dropped and said. When the deployment cannot be read, they pass as they are (the trigger
    itself says why)."""
    from bridge.errors import BridgeError

    entry = backends.catalog.entry(dag_id)
    read = getattr(backends.get("prefect"), "get_workflow", None)  # a fake may not read deployments
    try:
        raw = read(entry.deployment or dag_id).raw if read else None
    except BridgeError:  # down, or no such deployment
        return dict(params)
    schema = raw.get("parameter_openapi_schema") if isinstance(raw, Mapping) else None
    fitted, dropped = fit_parameters(schema, params, dag_id, entry.params)
    if dropped:
        say(
            f"{dag_id}: dropped {', '.join(dropped)} for Prefect: its flow does not take them (params.unknown)"
        )
    return fitted


def ensure_startable(
    backends: Backends,
    backend: str,
    workflow_id: str,
    *,
    unpause: bool = False,
    waiting: bool = False,
    say: Callable[[str], object] = lambda line: None,
) -> None:
    """Before a run is created: a paused DAG is refused (PausedWorkflowError, exit 2) unless ``unpause``
    (then unpaused, and said); what else keeps a run from starting (no live worker, no scheduler) is
    refused when the caller would wait on it (NotStartingError, exit 3), else said as a warning."""
    b = backends.get(backend)
    ready = b.readiness(workflow_id)
    if ready.paused:
        if not unpause:
            raise PausedWorkflowError(
                f"{workflow_id} is paused on {backend}: a run would sit queued until someone unpauses it; "
                "unpause it in the UI, or pass --unpause to unpause it and trigger"
            )
        b.resume(workflow_id)
        say(f"unpaused {workflow_id} on {backend} (--unpause): its schedule runs again from now")
    if ready.blocker:
        if waiting:
            raise NotStartingError(
                f"{ready.blocker}; not triggered (trigger without --wait to queue it anyway)", backend=backend
            )
        say(f"warning: {ready.blocker}")
    if ready.note:
        say(ready.note)


def wait(backends: Backends, ref: RunRef, timeout: float, progress: Progress | None = None) -> RunStatus:
    return backends.get(ref.backend).wait(ref, timeout, progress)


def observe(backends: Backends, ref: RunRef) -> Observation:
    return backends.get(ref.backend).observe(ref)


# -- runs by id -------------------------------------------------------------------------------------
def format_run_id(ref: RunRef) -> str:
    """A run id a person can paste back: airflow:DAG/RUN or prefect:FLOW_RUN_UUID."""
    return run_label(ref)


def parse_run_id(backends: Backends, text: str) -> RunRef:
    backend, _, native = text.partition(":")
    if backend not in ("airflow", "prefect") or not native:
        raise UsageError(f"run id {text!r} not understood: use airflow:DAG_ID/RUN_ID or prefect:FLOW_RUN_ID")
    return backends.get(backend).find_run(native)


def status(backends: Backends, run_id: str) -> RunStatus:
    ref = parse_run_id(backends, run_id)
    return backends.get(ref.backend).get_run(ref)


def is_success(state: RunState) -> bool:
    return state == RunState.SUCCESS
