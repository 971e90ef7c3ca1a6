"""`bridge serve`: the dashboard, until Ctrl-C."""

from __future__ import annotations

import os
import sys
from typing import IO


def serve(host: str, port: int, err: IO[str] = sys.stderr) -> None:
    """Start the dashboard; the token (if any) only from the environment, never a flag: a flag would
    show in the process list."""
    from bridge.serve.runner import serve as run

    token = os.environ.get("BRIDGE_DASHBOARD_TOKEN") or None

    def say(line: str) -> None:
        err.write(line + "\n")
        err.flush()

    run(host, port, token, say)
