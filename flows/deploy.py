"""Register the Prefect flows as deployments, with the same cron and timezone as their Airflow DAGs.

    python -m flows.deploy [--only DEPLOYMENT ...] [--active DEPLOYMENT ...] [--paused] [--source PATH]

Deploys to ``PREFECT_API_URL`` (else ``BRIDGE_PREFECT_URL``, else the local stack's server). Each entry of
``DEPLOYMENTS`` becomes ``<flow-name>/<deployment-name>``, the deployment name being the Airflow ``dag_id``.
Re-running updates the deployments in place (Prefect upserts by flow and deployment name; the schedule
keeps its slug). The code is pulled from ``--source`` (default: this repository's root) by the worker,
nothing is built or pushed. A missing work pool is created as a ``process`` pool. A later scenario adds
its flows by appending to ``DEPLOYMENTS``.

Registering never makes two schedulers write one target. A deployment created here is created with its
schedule paused (a new workflow is in stage ``airflow``: the legacy DAG alone is scheduled) unless named in
``--active``. Re-registering an existing deployment keeps what the cutover set on the server: its paused
state and its ``target`` parameter (Prefect's upsert would otherwise reset both: ``Flow.deploy`` sends
``paused=False`` when not told, and the spec's parameters). ``--active`` / ``--paused`` override the
paused state of the deployments they name (``--paused``: all of them); nothing here overrides ``target``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flows.spec import DeploymentSpec

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_API_URL = "http://127.0.0.1:4200/api"  # the local stack's (`bridge dev up`)


def discover(package: str = "flows") -> list[DeploymentSpec]:
    """Every ``DEPLOYMENTS`` entry of the modules in ``flows/``, in module order."""
    import importlib
    import pkgutil

    pkg = importlib.import_module(package)
    specs: list[DeploymentSpec] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name in ("deploy", "spec"):
            continue
        specs.extend(getattr(importlib.import_module(f"{package}.{info.name}"), "DEPLOYMENTS", []))
    return specs


async def _ensure_work_pool(name: str, pool_type: str = "process") -> bool:
    """Create the work pool if it does not exist; True if it was created."""
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.utilities import get_default_base_job_template_for_infrastructure_type

    async with get_client() as client:
        try:
            await client.read_work_pool(name)
            return False
        except ObjectNotFound:
            pass
        template = await get_default_base_job_template_for_infrastructure_type(pool_type) or {}
        try:
            await client.create_work_pool(
                WorkPoolCreate(name=name, type=pool_type, base_job_template=template)
            )
        except ObjectAlreadyExists:
            return False
        return True


def ensure_work_pool(name: str, pool_type: str = "process") -> bool:
    """Create the work pool ``name`` (of ``pool_type``) if missing; True if it was created."""
    return asyncio.run(_ensure_work_pool(name, pool_type))


def existing_state(full_name: str) -> tuple[bool, dict[str, Any]] | None:
    """``(paused, parameters)`` of the deployment ``flow/deployment`` on the server, or None if it does
    not exist yet."""
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            dep = client.read_deployment_by_name(full_name)
        except ObjectNotFound:
            return None
    return bool(dep.paused), dict(dep.parameters or {})


def registered_state(
    spec: DeploymentSpec, existing: tuple[bool, Mapping[str, Any]] | None, paused: bool | None
) -> tuple[bool, dict[str, Any]]:
    """The paused state and parameters to register ``spec`` with: ``paused`` if given, else the existing
    deployment's state, else paused (a new one); the spec's parameters, with the existing ``target``."""
    parameters = dict(spec.parameters)
    if existing is not None and "target" in existing[1]:
        parameters["target"] = existing[1]["target"]
    if paused is None:
        paused = existing[0] if existing is not None else True
    return paused, parameters


def deploy_one(spec: DeploymentSpec, *, source: str | Path = REPO_ROOT, paused: bool | None = None) -> str:
    """Create or update one deployment; return its id. ``paused``: None keeps an existing deployment's
    paused state and creates a new one paused; True or False sets it. An existing ``target`` parameter is
    always kept."""
    from prefect import Flow
    from prefect.schedules import Cron, Interval

    paused, parameters = registered_state(spec, existing_state(spec.full_name), paused)
    loaded = Flow.from_source(source=str(source), entrypoint=spec.entrypoint)
    assert isinstance(loaded, Flow)  # from_source is sync outside an event loop
    if loaded.name != spec.flow_name:
        raise ValueError(f"{spec.entrypoint} defines flow {loaded.name!r}, expected {spec.flow_name!r}")
    schedule = None
    if spec.schedule is not None:
        schedule = Cron(spec.schedule.cron, timezone=spec.schedule.timezone, slug=f"{spec.name}-cron")
    elif spec.interval_seconds is not None:
        schedule = Interval(spec.interval_seconds, slug=f"{spec.name}-interval")
    deployment_id = loaded.deploy(
        name=spec.name,
        work_pool_name=spec.work_pool,
        schedule=schedule,
        concurrency_limit=spec.concurrency_limit,
        parameters=parameters,
        job_variables=dict(spec.job_variables) or None,
        tags=list(spec.tags),
        description=spec.description,
        paused=paused,
        build=False,
        push=False,
        print_next_steps=False,
    )
    return str(deployment_id)


def deploy_all(
    specs: Sequence[DeploymentSpec] | None = None,
    *,
    source: str | Path = REPO_ROOT,
    paused: bool | None = None,
    only: Sequence[str] = (),
    active: Sequence[str] = (),
) -> dict[str, str]:
    """Deploy ``specs`` (those named in ``only``, by deployment or full name, if given); return
    ``{full name: deployment id}``. ``paused``: see ``deploy_one``; those named in ``active`` are
    registered with their schedule active whatever ``paused`` says."""
    specs = discover() if specs is None else specs
    names = {s.name for s in specs} | {s.full_name for s in specs}
    unknown = (set(only) | set(active)) - names
    if unknown:
        raise ValueError(f"unknown deployment(s): {', '.join(sorted(unknown))}")
    chosen = [s for s in specs if not only or s.name in only or s.full_name in only]
    for pool in sorted({s.work_pool for s in chosen}):
        ensure_work_pool(pool)
    return {
        spec.full_name: deploy_one(
            spec, source=source, paused=False if {spec.name, spec.full_name} & set(active) else paused
        )
        for spec in chosen
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.deploy", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="DEPLOYMENT",
        help="deploy only this one (deployment name or flow/deployment); repeatable",
    )
    parser.add_argument(
        "--active",
        action="append",
        default=[],
        metavar="DEPLOYMENT",
        help="register this one with its schedule active (default: a new deployment is paused, an "
        "existing one keeps its state); repeatable",
    )
    parser.add_argument("--paused", action="store_true", help="pause the schedules of all the others")
    parser.add_argument("--source", default=str(REPO_ROOT), help="where workers load the code from")
    if sys.stdout is None:  # `>&-`: nothing could be reported, so nothing is done
        print("deploy: standard output is closed: nothing could be reported; nothing done", file=sys.stderr)
        return 141
    args = parser.parse_args(argv)
    # Never fall back to Prefect's throwaway ephemeral server: deploy where the bridge points.
    api = os.environ.setdefault("PREFECT_API_URL", os.environ.get("BRIDGE_PREFECT_URL", DEFAULT_API_URL))
    print(f"deploying to {_masked(api)}", file=sys.stderr)
    try:
        deployed = deploy_all(
            source=args.source, paused=True if args.paused else None, only=args.only, active=args.active
        )
    except ValueError as exc:  # an unknown --only/--active name, a flow not where its spec says
        print(f"deploy: {_masked(str(exc))}", file=sys.stderr)
        return 2
    except Exception as exc:  # one clear line for the deployer's log, not a traceback
        code = 3 if _unreachable(exc) else 1
        text = " ".join(str(exc).split())[:300]
        print(f"deploy: failed: {type(exc).__name__}: {_masked(text)}", file=sys.stderr)
        return code
    try:
        for full_name, deployment_id in deployed.items():
            print(f"deployed {full_name} ({deployment_id})")
        sys.stdout.flush()
    except OSError as exc:  # a closed pipe or a full device: one line (none for a pipe), exit 141
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if not isinstance(exc, BrokenPipeError):
            print(f"deploy: cannot write standard output: {exc.strerror or exc}", file=sys.stderr)
        return 141
    return 0


def _masked(text: str) -> str:
    """``text`` with the user:password@ of any URL in it masked."""
    import re

    return re.sub(r"((?:[a-z][a-z0-9+.-]*:)?//)[^/@\s'\"]*@", r"\1***@", text, flags=re.I)


def _unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the Prefect server could not be reached (exit 3)."""
    seen: BaseException | None = exc
    while seen is not None:
        name = type(seen).__name__
        if isinstance(seen, ConnectionError | TimeoutError) or name in ("ConnectError", "ConnectTimeout"):
            return True
        if "Failed to reach API" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


if __name__ == "__main__":
    sys.exit(main())
