"""What every console command shares: the options both CLIs parse, error guarding, the backends."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from bridge.errors import BridgeError


@dataclass(frozen=True)
class Options:
    """Flags both CLIs share."""

    backend: str = "auto"
    url: str | None = None
    username: str | None = None
    password: str | None = None
    as_json: bool = False
    wait: bool = False
    timeout: float = 3600.0
    shadow: bool = False
    fail_on_mismatch: bool = False
    at: datetime | None = None  # --at: run as if the schedulers had fired at this instant
    unpause: bool = False  # --unpause: a paused DAG is unpaused (and said so) before it is triggered


def guarded(
    fn: Callable[[], object], err: IO[str] | None = None, prog: str = "bridge", as_json: bool = False
) -> int:
    """Run ``fn`` and return the exit code: 0, or a BridgeError's own code after one line on stderr
    (never a traceback); with ``as_json``, also a JSON object on stdout (docs/json-schema.json: "error"). The only
    place an exit code is chosen."""
    err = err or sys.stderr
    try:
        fn()
        return 0
    except BridgeError as exc:
        print(f"{prog}: {exc}", file=err)
        if as_json and not exc.printed:
            _json_error(str(exc), exc.exit_code, type(exc).__name__, exc.run, exc.details)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=err)
        if as_json:
            _json_error("interrupted", 130, "KeyboardInterrupt", None, None)
        return 130
    except BrokenPipeError:  # `... | head` closed our stdout: stop quietly, like any Unix tool
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _json_error(message: str, code: int, kind: str, run: str | None, details: dict[str, Any] | None) -> None:
    import json

    line = {"error": message, "exit_code": code, "kind": kind, "run": run, **(details or {})}
    try:
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass


def backends_for(opts: Options) -> Any:
    import getpass

    from bridge import config
    from bridge.cutover import truth
    from bridge.operations import Backends, Credentials

    catalog = truth.effective(config.load())  # the store's stage wins over bridge.toml's
    prompt = getpass.getpass if sys.stdin.isatty() else None
    url_for = opts.backend if opts.backend != "auto" else None
    return Backends(catalog, Credentials(opts.username, opts.password), opts.url, url_for, prompt)
