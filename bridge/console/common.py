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


def check_options(opts: Options) -> None:
    """Refuse flags that cannot mean anything together, before anything is triggered (exit 2)."""
    import math

    from bridge.errors import UsageError

    if not math.isfinite(opts.timeout) or opts.timeout < 0:
        raise UsageError(f"--timeout must be a number of seconds, 0 or more, not {opts.timeout:g}")
    if opts.shadow and opts.backend != "auto":
        raise UsageError(
            f"--shadow runs both sides (Airflow authoritative), so --backend {opts.backend} does not apply: "
            "leave --backend out, or drop --shadow to run on one side"
        )


def guarded(
    fn: Callable[[], object], err: IO[str] | None = None, prog: str = "bridge", as_json: bool = False
) -> int:
    """Run ``fn`` and return the exit code: 0, or a BridgeError's own code after one line on stderr
    (never a traceback); with ``as_json``, also a JSON object on stdout (docs/json-schema.json: "error"). The only
    place an exit code is chosen."""
    from bridge.console.streams import is_output_error, output_failed, scrub

    err = err or sys.stderr
    try:
        fn()
        sys.stdout.flush()  # here, so a full or closed stdout is this code, not noise at exit
        return 0
    except BridgeError as exc:
        line = scrub(str(exc))
        if exc.run and exc.run not in line:  # the run it leaves behind, always named
            line += f" (run {exc.run})"
        print(f"{prog}: {line}", file=err)
        if as_json and not exc.printed:
            _json_error(line, exc.exit_code, type(exc).__name__, exc.run, exc.details)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=err)
        if as_json:
            _json_error("interrupted", 130, "KeyboardInterrupt", None, None)
        return 130
    except OSError as exc:  # `... | head` closed our stdout, or it is a full device: stop quietly
        if is_output_error(exc):
            return output_failed(exc, prog)
        return _unexpected(exc, err, prog, as_json)
    except Exception as exc:  # a bug: still one line and a documented code, never a traceback
        return _unexpected(exc, err, prog, as_json)


def _unexpected(exc: Exception, err: IO[str], prog: str, as_json: bool) -> int:
    """An exception the bridge did not raise on purpose: one line naming it (exit 1); BRIDGE_DEBUG=1
    re-raises it, traceback and all."""
    import os

    from bridge.console.streams import scrub

    if os.environ.get("BRIDGE_DEBUG"):
        raise exc
    text = " ".join(str(exc).split())[:300] or "no message"
    line = scrub(
        f"unexpected error, a bug in the bridge ({type(exc).__name__}: {text}); BRIDGE_DEBUG=1 shows where"
    )
    print(f"{prog}: {line}", file=err)
    if as_json:
        _json_error(line, 1, type(exc).__name__, None, None)
    return 1


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
    prompt = getpass.getpass if sys.stdin is not None and sys.stdin.isatty() else None
    url_for = opts.backend if opts.backend != "auto" else None
    return Backends(catalog, Credentials(opts.username, opts.password), opts.url, url_for, prompt)
