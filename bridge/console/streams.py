"""The standard streams of a CLI process, made safe: a closed stdin or stderr, a closed or full stdout.

Every entry point (``bridge``, ``trigger_script.py``, ``python -m flows.deploy``) calls :func:`prepare`
before it does anything and :func:`settle` with its exit code at the end, so a stream the caller closed
(``<&-``, ``>&-``) or a full device (``> /dev/full``) is one line and a documented exit code, never a
traceback nor Python's "Exception ignored" at shutdown.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from typing import Any


class OutputClosed:
    """The exit code of a CLI whose standard output is closed or cannot be written (README: exit codes)."""

    exit_code = 141


OUTPUT_CLOSED = OutputClosed.exit_code
_USERINFO = re.compile(r"((?:[a-z][a-z0-9+.-]*:)?//)[^/@\s'\"]*@", re.I)


class Watched:
    """Standard output, remembering the first error a write or a flush of it raised (a full device, a
    closed pipe), so that error is told from any other OSError and never goes unnoticed (argparse
    swallows one while printing --help)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.failed: OSError | None = None

    def write(self, text: str) -> int:
        try:
            return int(self._inner.write(text))
        except OSError as exc:
            self.failed = self.failed or exc
            raise

    def flush(self) -> None:
        try:
            self._inner.flush()
        except OSError as exc:
            self.failed = self.failed or exc
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def prepare(prog: str) -> int | None:
    """Make closed streams harmless and watch standard output; return an exit code when the command
    must not run at all (its standard output is closed: nothing it did could be reported), else None."""
    if sys.stdin is None:  # `<&-`: reading gives nothing, and nothing asks for a password
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 (lives as long as the process)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stdout is None:  # `>&-`: refuse before doing anything, so no run is left unreported
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        sys.stderr.write(f"{prog}: standard output is closed: nothing could be reported; nothing done\n")
        return OUTPUT_CLOSED
    if not isinstance(sys.stdout, Watched):
        sys.stdout = Watched(sys.stdout)
    return None


def settle(code: int, prog: str) -> int:
    """Flush standard output; if it could not be written (a closed pipe, a full device), say so in one
    line (none for a closed pipe) and return 141 unless ``code`` already says something went wrong."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError as exc:
        return output_failed(exc, prog, code)
    failed = getattr(sys.stdout, "failed", None)
    if isinstance(failed, OSError):
        return output_failed(failed, prog, code)
    return code


def is_output_error(exc: BaseException) -> bool:
    """Whether ``exc`` is standard output failing (a closed pipe, a full device), not another OSError."""
    failed = getattr(sys.stdout, "failed", None)
    return isinstance(exc, BrokenPipeError) or (
        isinstance(exc, OSError) and isinstance(failed, OSError) and failed.errno == exc.errno
    )


def output_failed(exc: OSError, prog: str, code: int = 0) -> int:
    """Standard output failed with ``exc``: point it at /dev/null (so the interpreter's own flush at exit
    stays quiet), say why unless the reader just went away, and return the exit code."""
    if isinstance(sys.stdout, Watched):
        sys.stdout.failed = None  # said once
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if exc.errno != errno.EPIPE:
        print(f"{prog}: cannot write standard output: {exc.strerror or exc}", file=sys.stderr)
    return code or OUTPUT_CLOSED


def scrub(text: str) -> str:
    """``text`` with every ``user:password@`` of a URL masked, and the Airflow password of this process's
    environment replaced: what any error line passes through before it is printed."""
    text = _USERINFO.sub(r"\1***@", text)
    password = os.environ.get("BRIDGE_AIRFLOW_PASSWORD") or ""
    if len(password) >= 4:
        text = text.replace(password, "***")
    return text
