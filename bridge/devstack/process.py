"""Start a service in its own process group, remember it in a pid file, stop exactly that group."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Running:
    """What a pid file says about a started service."""

    name: str
    pid: int
    pgid: int
    argv0: str
    log: Path


def pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.pid"


def spawn(name: str, argv: list[str], env: dict[str, str], cwd: Path, run_dir: Path, log: Path) -> Running:
    """Start ``argv`` detached in a new session (so a new process group); output goes to ``log``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    running = Running(name, proc.pid, proc.pid, argv[0], log)
    tmp = pid_file(run_dir, name).with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": proc.pid, "pgid": proc.pid, "argv0": argv[0], "log": str(log)}))
    tmp.replace(pid_file(run_dir, name))
    return running


def read(run_dir: Path, name: str) -> Running | None:
    """The service recorded under ``name`` if its process is still alive and still ours."""
    path = pid_file(run_dir, name)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    running = Running(name, int(data["pid"]), int(data["pgid"]), str(data["argv0"]), Path(data["log"]))
    return running if group_alive(running.pgid) else None


def group_members(pgid: int) -> list[int]:
    """PIDs of live (non-zombie) processes in process group ``pgid``."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def group_alive(pgid: int) -> bool:
    return bool(group_members(pgid))


def stop(running: Running, signals: tuple[int, ...], grace: float = 10.0) -> bool:
    """Send each signal in turn to the whole group, waiting up to ``grace`` s after each. True if it died."""
    for sig in (*signals, signal.SIGKILL):
        try:
            os.killpg(running.pgid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + (grace if sig != signal.SIGKILL else 5.0)
        while time.monotonic() < deadline:
            _reap(running.pid)
            if not group_alive(running.pgid):
                return True
            time.sleep(0.2)
    return not group_alive(running.pgid)


def forget(run_dir: Path, name: str) -> None:
    pid_file(run_dir, name).unlink(missing_ok=True)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 25) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            text = fh.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
