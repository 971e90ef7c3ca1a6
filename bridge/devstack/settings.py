"""Where the local stack lives and which ports it uses: one frozen record, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_AIRFLOW_USER = "admin"
DEFAULT_AIRFLOW_PASSWORD = (
    "admin"  # dev-stack default, documented in README; override with BRIDGE_AIRFLOW_PASSWORD
)
PREFECT_POOLS = ("scheduler", "worker", "bigdata")


@dataclass(frozen=True)
class StackSettings:
    """Everything `bridge dev` needs to know to start, find and stop the local stack."""

    home: Path = REPO_ROOT / ".bridge"
    repo: Path = REPO_ROOT
    host: str = "127.0.0.1"
    airflow_port: int = 8080
    prefect_port: int = 4200
    sqs_port: int = 5000
    dashboard_port: int = 8790  # `bridge serve`, started with the stack (the tests' stack: a free port)
    sqs_endpoint: str | None = None  # an external SQS endpoint: then no moto server is started
    postgres_url: str | None = "postgresql://postgres@127.0.0.1:5432/postgres"
    db_prefix: str = "bridge"
    airflow_user: str = DEFAULT_AIRFLOW_USER
    airflow_password: str = field(default=DEFAULT_AIRFLOW_PASSWORD, repr=False)
    airflow_parallelism: int = 4
    worker_poll_seconds: int = 2
    start_timeout: float = 180.0
    pools: tuple[str, ...] = PREFECT_POOLS
    # Passed to every service (and so to every DAG task and flow run): e.g. the source and warehouse URLs.
    extra_env: tuple[tuple[str, str], ...] = ()
    # More DAG folders for Airflow beside dags_legacy/ (each its own dag bundle, named after the folder).
    extra_dag_folders: tuple[Path, ...] = ()
    # Start `bridge watch` (shadows of the scheduled runs) with the stack: `bridge dev up` does (from_env,
    # unless BRIDGE_DEV_WATCH=0); a stack made in code (the tests') does not unless it says so.
    watch: bool = False

    @classmethod
    def from_env(cls, env: os._Environ[str] | dict[str, str] | None = None) -> StackSettings:
        env = os.environ if env is None else env
        s = cls()
        home = env.get("BRIDGE_HOME")
        pg = env.get("BRIDGE_DEV_POSTGRES_URL", s.postgres_url or "")
        return replace(
            s,
            home=Path(home).resolve() if home else s.home,
            airflow_port=_port(env, "BRIDGE_AIRFLOW_PORT", s.airflow_port),
            prefect_port=_port(env, "BRIDGE_PREFECT_PORT", s.prefect_port),
            sqs_port=_port(env, "BRIDGE_SQS_PORT", s.sqs_port),
            dashboard_port=_port(env, "BRIDGE_DASHBOARD_PORT", s.dashboard_port),
            sqs_endpoint=env.get("BRIDGE_SQS_ENDPOINT") or None,
            postgres_url=None if pg.lower() in ("", "none", "sqlite") else pg,
            db_prefix=env.get("BRIDGE_DEV_DB_PREFIX", s.db_prefix),
            airflow_user=env.get("BRIDGE_AIRFLOW_USERNAME", s.airflow_user),
            airflow_password=env.get("BRIDGE_AIRFLOW_PASSWORD", s.airflow_password),
            watch=env.get("BRIDGE_DEV_WATCH", "1") != "0",
        )

    # -- derived places -------------------------------------------------------------------------
    @property
    def airflow_url(self) -> str:
        return f"http://{self.host}:{self.airflow_port}"

    @property
    def prefect_url(self) -> str:
        return f"http://{self.host}:{self.prefect_port}/api"

    @property
    def prefect_ui_url(self) -> str:
        return f"http://{self.host}:{self.prefect_port}"

    @property
    def sqs_url(self) -> str:
        return self.sqs_endpoint or f"http://{self.host}:{self.sqs_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://{self.host}:{self.dashboard_port}"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    @property
    def result_storage(self) -> Path:
        return self.prefect_home / "storage"

    @property
    def airflow_venv_bin(self) -> Path:
        return self.repo / ".venv-airflow" / "bin"

    @property
    def venv_bin(self) -> Path:
        return self.repo / ".venv" / "bin"

    def env(self) -> dict[str, str]:
        """The variables that make ``from_env`` (in another process) give back these settings."""
        env = {
            **self.client_env(),
            "BRIDGE_HOME": str(self.home),
            "BRIDGE_AIRFLOW_PORT": str(self.airflow_port),
            "BRIDGE_PREFECT_PORT": str(self.prefect_port),
            "BRIDGE_SQS_PORT": str(self.sqs_port),
            "BRIDGE_DASHBOARD_PORT": str(self.dashboard_port),
            "BRIDGE_DEV_DB_PREFIX": self.db_prefix,
            "BRIDGE_DEV_POSTGRES_URL": self.postgres_url or "sqlite",
            "BRIDGE_DEV_WATCH": "1" if self.watch else "0",
        }
        if not self.sqs_endpoint:  # our own moto server: not an externally configured endpoint
            del env["BRIDGE_SQS_ENDPOINT"]
        return env

    def client_env(self) -> dict[str, str]:
        """The variables a bridge CLI or test needs to talk to this stack."""
        return {
            "BRIDGE_AIRFLOW_URL": self.airflow_url,
            "BRIDGE_PREFECT_URL": self.prefect_url,
            "BRIDGE_SQS_ENDPOINT": self.sqs_url,
            "BRIDGE_AIRFLOW_USERNAME": self.airflow_user,
            "PREFECT_API_URL": self.prefect_url,
        }


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    """The TCP port ``name`` sets in ``env`` (else ``default``); anything but 1..65535 is a ConfigError."""
    from bridge.errors import ConfigError

    text = env.get(name)
    if text is None:
        return default
    if not text.strip().isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"{name} is {text!r}: give a port number from 1 to 65535")
    return int(text)
