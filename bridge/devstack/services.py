"""The stack's services as data: how each one starts, how it proves it is healthy, how it stops."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from bridge.devstack import health
from bridge.devstack.settings import StackSettings

AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


@dataclass(frozen=True)
class Service:
    name: str
    argv: list[str]
    env: dict[str, str] = field(repr=False)
    healthy: Callable[[], bool]
    wave: int = 0  # services of wave N start once every service of wave N-1 is healthy
    stop_signals: tuple[int, ...] = (signal.SIGTERM,)
    url: str = ""


def base_env(s: StackSettings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "PREFECT_"))}
    env.update(s.client_env())
    env.update(dict(s.extra_env))
    env["BRIDGE_HOME"] = str(s.home)
    env["PYTHONPATH"] = str(s.repo)  # dags_legacy/ and flows/ import pipelines/ from the repo
    env["DO_NOT_TRACK"] = "1"
    env.pop("BRIDGE_AIRFLOW_PASSWORD", None)  # no service needs the client's password
    return env


def airflow_env(s: StackSettings, db_url: str, jwt_secret: str) -> dict[str, str]:
    env = base_env(s)
    env.update(
        {
            "AIRFLOW_HOME": str(s.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(s.repo / "dags_legacy"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(s.airflow_parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__AUTH_MANAGER": AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{s.airflow_user}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(s.airflow_home / "passwords.json"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{s.airflow_url}/execution/",
            "AIRFLOW__API__BASE_URL": s.airflow_url,
            "AIRFLOW__API_AUTH__JWT_SECRET": jwt_secret,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(s.log_dir / "airflow-tasks"),
        }
    )
    if s.extra_dag_folders:
        env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = dag_bundles(s)
    return env


def dag_bundles(s: StackSettings) -> str:
    """Airflow's dag bundle list: dags_legacy/ (the DAGS_FOLDER) and each extra folder, one bundle each."""
    import json

    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    bundles = [{"name": "dags-folder", "classpath": local, "kwargs": {}}]
    bundles += [
        {"name": f"extra-{folder.name}", "classpath": local, "kwargs": {"path": str(folder)}}
        for folder in s.extra_dag_folders
    ]
    return json.dumps(bundles)


def prefect_env(s: StackSettings, db_url: str) -> dict[str, str]:
    env = base_env(s)
    env.update(
        {
            "PREFECT_HOME": str(s.prefect_home),
            "PREFECT_API_URL": s.prefect_url,
            "PREFECT_API_DATABASE_CONNECTION_URL": db_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_API_HOST": s.host,
            "PREFECT_SERVER_API_PORT": str(s.prefect_port),
            "PREFECT_UI_API_URL": s.prefect_url,
            "PREFECT_WORKER_QUERY_SECONDS": str(s.worker_poll_seconds),
            "PREFECT_WORKER_HEARTBEAT_SECONDS": "10",
            "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
            "PREFECT_LOCAL_STORAGE_PATH": str(s.result_storage),
        }
    )
    return env


def build(s: StackSettings, db_urls: dict[str, str], jwt_secret: str) -> list[Service]:
    """Every service of the stack, in start order."""
    af_bin, venv_bin = s.airflow_venv_bin, s.venv_bin
    af_env = airflow_env(s, db_urls["airflow"], jwt_secret)
    pf_env = prefect_env(s, db_urls["prefect"])
    services = [
        Service(
            "prefect-server",
            [str(venv_bin / "prefect"), "server", "start", "--host", s.host, "--port", str(s.prefect_port)],
            pf_env,
            partial(health.prefect_server, s.prefect_url),
            url=s.prefect_ui_url,
        ),
        Service(
            "airflow-api-server",
            [str(af_bin / "airflow"), "api-server", "--host", s.host, "--port", str(s.airflow_port)],
            af_env,
            partial(health.airflow_component, s.airflow_url, "metadatabase"),
            url=s.airflow_url,
        ),
        Service(
            "airflow-scheduler",
            [str(af_bin / "airflow"), "scheduler", "--skip-serve-logs"],
            af_env,
            partial(health.airflow_component, s.airflow_url, "scheduler"),
        ),
        Service(
            "airflow-dag-processor",
            [str(af_bin / "airflow"), "dag-processor"],
            af_env,
            partial(health.airflow_component, s.airflow_url, "dag_processor"),
        ),
    ]
    if not s.sqs_endpoint:
        services.append(
            Service(
                "sqs",
                [str(venv_bin / "moto_server"), "-H", s.host, "-p", str(s.sqs_port)],
                base_env(s),
                partial(health.sqs, s.sqs_url),
                url=s.sqs_url,
            )
        )
    for pool in s.pools:
        services.append(
            Service(
                f"prefect-worker-{pool}",
                [
                    str(venv_bin / "prefect"),
                    "worker",
                    "start",
                    "--pool",
                    pool,
                    "--type",
                    "process",
                    "--name",
                    f"bridge-{pool}-1",
                ],
                pf_env,
                partial(health.prefect_worker, s.prefect_url, pool),
                wave=1,
                stop_signals=(signal.SIGINT, signal.SIGINT, signal.SIGTERM),
            )
        )
    if s.watch:
        services.append(watch_service(s))
    services.append(dashboard_service(s))
    return services


def watch_service(s: StackSettings) -> Service:
    """`bridge watch`: a process command (the devstack never imports the watcher), once both servers are
    healthy; it reads the repo's bridge.toml and keeps its cursor in the stack's history store."""
    env = base_env(s)
    env["BRIDGE_AIRFLOW_PASSWORD"] = s.airflow_password  # the watcher is a client of the API server
    return Service(
        "bridge-watch",
        [str(s.venv_bin / "bridge"), "watch", "--interval", "30"],
        env,
        lambda: True,  # no port: alive is healthy (each cycle's line is in its log)
        wave=1,
    )


def dashboard_service(s: StackSettings) -> Service:
    """`bridge serve` (a process command, like the watcher) on the stack's dashboard port, once both
    servers are healthy: read-only unless BRIDGE_DASHBOARD_TOKEN is in the environment of `bridge dev up`."""
    env = base_env(s)
    env["BRIDGE_AIRFLOW_PASSWORD"] = s.airflow_password  # the gates' schedule parity asks Airflow's API
    return Service(
        "bridge-dashboard",
        [str(s.venv_bin / "bridge"), "serve", "--host", s.host, "--port", str(s.dashboard_port)],
        env,
        partial(health.dashboard, s.dashboard_url),
        wave=1,
        url=s.dashboard_url,
    )
