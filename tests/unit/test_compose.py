"""Static checks of docker-compose.yml: no Docker engine is needed, only the file and the repo."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"

STATEFUL_SERVICES = (
    "postgres",
    "redshift",
    "mysql",
    "rabbitmq",
    "localstack",
    "prefect-server",
    "airflow-api-server",
)
WORKER_POOLS = ("scheduler", "worker", "bigdata")
# Where the project reads its settings from the environment.
CODE_DIRS = ("bridge", "pipelines", "flows", "dags_legacy")
CODE_FILES = ("trigger_script.py",)
BRIDGE_VAR = re.compile(r"\bBRIDGE_[A-Z0-9_]+\b")


@functools.lru_cache(maxsize=1)
def load_compose() -> dict[str, Any]:
    """The parsed compose file (anchors and merge keys resolved by PyYAML)."""
    with COMPOSE_FILE.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def services() -> dict[str, dict[str, Any]]:
    return load_compose()["services"]


def depends_on(service: dict[str, Any]) -> list[str]:
    """Service names from either depends_on form (list, or mapping with conditions)."""
    deps = service.get("depends_on") or []
    return list(deps)


def bind_sources(service: dict[str, Any]) -> list[str]:
    """Host paths of the service's bind mounts relative to the repo (short and long syntax)."""
    sources = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source = volume.split(":", 1)[0]
        else:
            source = volume.get("source", "") if volume.get("type") == "bind" else ""
        if source.startswith("./"):
            sources.append(source)
    return sources


def publishes_host_port(port: Any) -> bool:
    """True when a `ports` entry fixes a host port (so two replicas would clash)."""
    if isinstance(port, dict):
        return bool(port.get("published"))
    # "8080" publishes on a random host port; "8080:80" and "127.0.0.1:8080:80" fix one.
    return ":" in str(port)


def code_text() -> str:
    """All Python source the BRIDGE_* variables may be read from."""
    paths = [REPO / name for name in CODE_FILES if (REPO / name).is_file()]
    for name in CODE_DIRS:
        paths.extend(sorted((REPO / name).rglob("*.py")))
    return "\n".join(path.read_text(encoding="utf-8") for path in paths)


def test_compose_file_parses() -> None:
    compose = load_compose()
    assert isinstance(compose, dict)
    assert "version" not in compose, "the compose spec has no `version:` key"
    assert services(), "no services defined"


def test_build_contexts_and_dockerfiles_exist() -> None:
    missing = []
    for name, service in services().items():
        build = service.get("build")
        if build is None:
            continue
        if isinstance(build, str):
            build = {"context": build}
        context = REPO / build.get("context", ".")
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        if not context.is_dir():
            missing.append(f"{name}: build context {context}")
        elif not dockerfile.is_file():
            missing.append(f"{name}: Dockerfile {dockerfile}")
    assert not missing, missing


def test_bind_mounted_paths_exist() -> None:
    missing = [
        f"{name}: {source}"
        for name, service in services().items()
        for source in bind_sources(service)
        if not (REPO / source).exists()
    ]
    assert not missing, missing


def test_scripts_run_by_the_stack_are_executable() -> None:
    scripts = ["deployment_scripts/deploy_flows.sh"] + [
        source
        for service in services().values()
        for source in bind_sources(service)
        if source.endswith(".sh")
    ]
    not_executable = [s for s in scripts if not os.access(REPO / s, os.X_OK)]
    assert not not_executable, not_executable


def test_depends_on_names_defined_services() -> None:
    defined = set(services())
    unknown = [
        f"{name} -> {dep}"
        for name, service in services().items()
        for dep in depends_on(service)
        if dep not in defined
    ]
    assert not unknown, unknown


@pytest.mark.parametrize("name", STATEFUL_SERVICES)
def test_stateful_service_has_healthcheck(name: str) -> None:
    service = services().get(name)
    assert service is not None, f"service {name} is not defined"
    healthcheck = service.get("healthcheck") or {}
    assert healthcheck.get("test"), f"{name} has no healthcheck test"
    assert not healthcheck.get("disable"), f"{name} disables its healthcheck"


@pytest.mark.parametrize("pool", WORKER_POOLS)
def test_worker_service_per_pool_is_scalable(pool: str) -> None:
    name = f"prefect-worker-{pool}"
    service = services().get(name)
    assert service is not None, f"service {name} is not defined"
    command = service.get("command")
    command = " ".join(command) if isinstance(command, list) else str(command)
    assert f"--pool {pool}" in command, command
    assert "container_name" not in service, f"{name} has a container_name: cannot scale"
    fixed = [p for p in service.get("ports") or [] if publishes_host_port(p)]
    assert not fixed, f"{name} fixes host ports {fixed}: cannot scale"


def test_bridge_env_vars_are_read_by_the_code() -> None:
    names = sorted(set(BRIDGE_VAR.findall(COMPOSE_FILE.read_text(encoding="utf-8"))))
    assert names, "the compose file sets no BRIDGE_* variable"
    code = code_text()
    assert code, f"no Python code found in {CODE_DIRS} or {CODE_FILES}"
    unread = [n for n in names if f'"{n}"' not in code and f"'{n}'" not in code]
    assert not unread, f"set in docker-compose.yml but read nowhere in the code: {unread}"
