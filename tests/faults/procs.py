"""What the rows do to processes: run a CLI against the private stack while reading its lines, kill one
service of the stack (SIGKILL to its process group, as a crash would) and bring it back."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.faults.stack import Private
from tests.helpers import REPO, wait_for

BRIDGE = str(REPO / ".venv" / "bin" / "bridge")
PYTHON = str(REPO / ".venv" / "bin" / "python")
TRIGGER_SCRIPT = [PYTHON, str(REPO / "trigger_script.py")]


class Cli:
    """A CLI started in the background; its stdout and stderr lines collected as they come."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for t in self._threads:
            t.start()

    @staticmethod
    def _read(pipe: Any, into: list[str]) -> None:
        for line in pipe:
            into.append(line.rstrip("\n"))
        pipe.close()

    def wait_line(self, pattern: str, timeout: float, stream: str = "err") -> re.Match[str]:
        """The first line of ``stream`` matching ``pattern``; fails naming what was seen."""
        lines = self.err if stream == "err" else self.out

        def found() -> re.Match[str] | None:
            for line in list(lines):
                if m := re.search(pattern, line):
                    return m
            if self.proc.poll() is not None:
                time.sleep(0.3)  # the reader threads finish the pipes
                for line in list(lines):
                    if m := re.search(pattern, line):
                        return m
                raise AssertionError(f"exited {self.proc.returncode} before {pattern!r}: {self.tail()}")
            return None

        return wait_for(found, timeout, f"{pattern!r} from {self.argv[1:3]}", interval=0.2)  # type: ignore[no-any-return]

    def finish(self, timeout: float) -> int:
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(30)
            raise AssertionError(
                f"{self.argv[1:3]} still running after {timeout:.0f} s: {self.tail()}"
            ) from None
        for t in self._threads:
            t.join(5)
        return rc

    def tail(self, n: int = 3) -> str:
        return " / ".join((self.out + self.err)[-n:])

    def json(self) -> Any:
        return json.loads("\n".join(self.out))


def run(argv: list[str], env: dict[str, str], timeout: float = 300) -> Cli:
    """Run to the end; the Cli with its lines and ``rc``."""
    cli = Cli(argv, env)
    cli.rc = cli.finish(timeout)  # type: ignore[attr-defined]
    return cli


def kill_service(p: Private, name: str) -> None:
    """SIGKILL the service's whole process group, as a crash of its machine would."""
    from bridge.devstack import process

    running = process.read(p.settings.run_dir, name)
    assert running is not None, f"{name} is not running"
    os.killpg(running.pgid, signal.SIGKILL)
    wait_for(lambda: not process.group_alive(running.pgid), 30, f"{name} to die", interval=0.2)


def kill_main(p: Private, name: str) -> None:
    """SIGKILL only the service's own process (a scheduler crash): what it started (running tasks) goes on,
    and the service counts as stopped, so ``restart`` starts a new one."""
    from bridge.devstack import process

    running = process.read(p.settings.run_dir, name)
    assert running is not None, f"{name} is not running"
    os.kill(running.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(running.pid, 0)  # started by this process (devstack.up): reap it
    process.forget(p.settings.run_dir, name)


def restart(p: Private, say: Callable[[str], None]) -> None:
    """Start again what is not running (``bridge dev up`` does the same), healthy before it returns."""
    from bridge import devstack

    devstack.up(p.settings, say=lambda line: say(f"[stack] {line}"))


def airflow(p: Private) -> Any:
    from bridge.backends.airflow import AirflowBackend

    s = p.settings
    return AirflowBackend(s.airflow_url, s.airflow_user, s.airflow_password)


def prefect(p: Private) -> Any:
    from bridge.backends.prefect import PrefectBackend

    return PrefectBackend(p.settings.prefect_url)
