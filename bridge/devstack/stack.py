"""`bridge dev up | down | status | logs`: start, inspect and stop the local stack."""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bridge.devstack import databases, process
from bridge.devstack.services import Service, airflow_env, build
from bridge.devstack.settings import StackSettings
from bridge.errors import ServiceStartError, StackError

Say = Callable[[str], None]


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool
    healthy: bool
    pid: int | None
    log: Path
    url: str


def _secret_file(path: Path, make: Callable[[], str]) -> str:
    """Read a secret kept under the stack home, creating it (mode 0600) the first time."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(value)
    tmp.replace(path)
    return value


def _jwt_secret(s: StackSettings) -> str:
    import os

    return os.environ.get("BRIDGE_AIRFLOW_JWT_SECRET") or _secret_file(
        s.home / "secrets" / "airflow_jwt_secret", lambda: secrets.token_urlsafe(48)
    )


def _write_airflow_passwords(s: StackSettings) -> None:
    path = s.airflow_home / "passwords.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps({s.airflow_user: s.airflow_password}))
    tmp.replace(path)


def _running_password(s: StackSettings, say: Say) -> StackSettings:
    """``s`` with the password the running Airflow has for ``s.airflow_user`` (the watcher must use it),
    saying in one line (never the password) when the caller's BRIDGE_AIRFLOW_PASSWORD differs from it."""
    from dataclasses import replace

    try:
        users = json.loads((s.airflow_home / "passwords.json").read_text())
    except (OSError, ValueError):
        return s
    stored = users.get(s.airflow_user) if isinstance(users, dict) else None
    if stored == s.airflow_password:
        return s
    if stored is None:
        say(f"airflow-api-server: already running without a user {s.airflow_user!r}; its users are kept")
        return s
    say(
        f"airflow-api-server: already running, and its password for {s.airflow_user} is not the one "
        "BRIDGE_AIRFLOW_PASSWORD gives here: kept the running one (`bridge dev down` then `bridge dev up` "
        "to change it)"
    )
    return replace(s, airflow_password=stored)


def _services(s: StackSettings) -> list[Service]:
    state = s.home / "stack.json"
    if state.exists():
        db_urls = json.loads(state.read_text())["db_urls"]
    else:
        db_urls = databases.metadata_urls(s.postgres_url, s.db_prefix, s.home)
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"db_urls": db_urls, "db_prefix": s.db_prefix}))
    return build(s, db_urls, _jwt_secret(s))


def _check_installed(s: StackSettings) -> None:
    for exe in (s.airflow_venv_bin / "airflow", s.venv_bin / "prefect"):
        if not exe.exists():
            raise StackError(f"{exe} is missing: run `make setup` first")


def _migrate_airflow(s: StackSettings, svc: Service, say: Say) -> None:
    db_url = svc.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    stamp = s.airflow_home / ".migrated"
    if stamp.exists() and stamp.read_text() == db_url:
        return
    say("airflow: migrating the metadata database")
    log = s.log_dir / "airflow-db-migrate.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        rc = subprocess.call(
            [str(s.airflow_venv_bin / "airflow"), "db", "migrate"],
            env=svc.env,
            cwd=s.home,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    if rc != 0:
        raise ServiceStartError("airflow-db-migrate", f"exit code {rc}", str(log), process.tail(log))
    stamp.write_text(db_url)


def up(s: StackSettings, say: Say = print) -> list[ServiceStatus]:
    """Start every service that is not running; report those that are. Idempotent."""
    _check_installed(s)
    for d in (s.home, s.run_dir, s.log_dir, s.airflow_home, s.prefect_home, s.result_storage):
        d.mkdir(parents=True, exist_ok=True)
    running = process.read(s.run_dir, "airflow-api-server") is not None
    s = _running_password(s, say) if running else s
    services = _services(s)
    if not running:  # a running API server keeps its users: never reset a password others use
        _write_airflow_passwords(s)
    started_at = time.monotonic()
    for wave in sorted({svc.wave for svc in services}):
        batch = [svc for svc in services if svc.wave == wave]
        started = []
        for svc in batch:
            if process.read(s.run_dir, svc.name):
                say(f"{svc.name}: already running")
                continue
            if svc.name == "airflow-api-server":
                _migrate_airflow(s, svc, say)
            process.spawn(svc.name, svc.argv, svc.env, s.home, s.run_dir, s.log_dir / f"{svc.name}.log")
            started.append(svc)
        _wait_healthy(s, started, say)
        if any(svc.name == "airflow-api-server" for svc in started):
            _warm_execution_api(s)
    if started_at and time.monotonic() - started_at > 1:
        say(f"stack healthy in {time.monotonic() - started_at:.1f} s")
    return status(s)


def _wait_healthy(s: StackSettings, started: list[Service], say: Say) -> None:
    pending = {svc.name: svc for svc in started}
    deadline = time.monotonic() + s.start_timeout
    last_report = time.monotonic()
    while pending:
        for name, svc in list(pending.items()):
            if svc.healthy():
                say(f"{name}: healthy" + (f" at {svc.url}" if svc.url else ""))
                del pending[name]
            elif process.read(s.run_dir, name) is None:
                log = s.log_dir / f"{name}.log"
                raise ServiceStartError(name, "the process exited", str(log), process.tail(log))
        if not pending:
            break
        if time.monotonic() > deadline:
            name = sorted(pending)[0]
            log = s.log_dir / f"{name}.log"
            raise ServiceStartError(
                name, f"not healthy after {s.start_timeout:.0f} s", str(log), process.tail(log)
            )
        if time.monotonic() - last_report > 10:
            say(f"waiting for {', '.join(sorted(pending))} ...")
            last_report = time.monotonic()
        time.sleep(0.5)


def _warm_execution_api(s: StackSettings) -> None:
    """The first request to /execution/ blocks the API server for 11-29 s: pay it now, not in a task."""
    import requests

    with contextlib.suppress(requests.RequestException):
        requests.get(f"{s.airflow_url}/execution/health", timeout=60)


def down(s: StackSettings, say: Say = print) -> list[str]:
    """Stop exactly the processes `up` started (their pid files), workers first. Returns their names."""
    stopped = []
    names = sorted(
        (p.stem for p in s.run_dir.glob("*.pid")), key=lambda n: (not n.startswith("prefect-worker"), n)
    )
    for name in names:
        running = process.read(s.run_dir, name)
        if running is None:
            process.forget(s.run_dir, name)
            continue
        signals = _stop_signals(name)
        if not process.stop(running, signals):
            raise StackError(f"{name} (process group {running.pgid}) did not stop; kill it by hand")
        process.forget(s.run_dir, name)
        say(f"{name}: stopped")
        stopped.append(name)
    if not stopped:
        say("nothing was running")
    return stopped


def _stop_signals(name: str) -> tuple[int, ...]:
    import signal

    if name.startswith("prefect-worker"):
        return (signal.SIGINT, signal.SIGINT, signal.SIGTERM)
    return (signal.SIGTERM,)


def status(s: StackSettings) -> list[ServiceStatus]:
    services = _services(s) if (s.home / "stack.json").exists() else []
    result = []
    for svc in services:
        running = process.read(s.run_dir, svc.name)
        result.append(
            ServiceStatus(
                svc.name,
                running is not None,
                running is not None and svc.healthy(),
                running.pid if running else None,
                s.log_dir / f"{svc.name}.log",
                svc.url,
            )
        )
    return result


def logs(s: StackSettings, service: str | None = None, lines: int = 40) -> str:
    paths = sorted(s.log_dir.glob("*.log")) if service is None else [s.log_dir / f"{service}.log"]
    if service and not paths[0].exists():
        import difflib

        from bridge.errors import UsageError

        names = [
            "airflow-api-server",
            "airflow-scheduler",
            "airflow-dag-processor",
            "airflow-db-migrate",
            "prefect-server",
            "sqs",
            "bridge-watch",
            *(f"prefect-worker-{pool}" for pool in s.pools),
        ]
        logged = ", ".join(p.stem for p in sorted(s.log_dir.glob("*.log"))) or "none yet"
        if service not in names:
            near = difflib.get_close_matches(service, names, n=3, cutoff=0.5)
            hint = f" Did you mean: {', '.join(near)}?" if near else ""
            raise UsageError(f"no service {service!r}.{hint} Services: {', '.join(names)}")
        raise StackError(f"no log for {service!r} yet: not started here (logs so far: {logged})")
    return "\n".join(f"==> {p} <==\n{process.tail(p, lines)}" for p in paths)


def drop_databases(s: StackSettings) -> None:
    """Remove the stack's metadata databases (used by `make clean` and the test harness)."""
    state = s.home / "stack.json"
    if s.postgres_url and state.exists():
        prefix = json.loads(state.read_text())["db_prefix"]
        for system in ("airflow", "prefect"):
            databases.drop_database(s.postgres_url, f"{prefix}_{system}")


__all__ = ["ServiceStatus", "airflow_env", "down", "drop_databases", "logs", "status", "up"]
