"""Start the dashboard: the history store and catalog of this machine, served by uvicorn."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from bridge.config import WorkflowEntry
from bridge.cutover.gates import LiveFacts
from bridge.errors import BridgeError, UsageError
from bridge.serve.app import create_app
from bridge.serve.source import Source

DEFAULT_PORT = 8790
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _backends() -> Callable[[], Any]:
    """The CLI's backends (the store's stages win over bridge.toml's), made once, when first needed."""
    made: list[Any] = []

    def get() -> Any:
        if not made:
            from bridge import config
            from bridge.cutover import truth
            from bridge.operations import Backends

            made.append(Backends(truth.effective(config.load())))
        return made[0]

    return get


def check_port(host: str, port: int) -> None:
    """Refuse, in one line, a host/port this machine cannot listen on (in use, not its address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(f"bridge serve cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def serve(host: str, port: int, token: str | None, say: Callable[[str], None]) -> None:
    """Serve the dashboard until interrupted."""
    import uvicorn

    from bridge import config
    from bridge.cutover.evidence import live_facts
    from bridge.store import Store

    declared = config.load()
    store = Store(declared.store_url)
    backends = _backends()

    def facts(entry: WorkflowEntry) -> LiveFacts:
        try:
            return live_facts(backends(), store, entry)
        except BridgeError as exc:
            return LiveFacts(entry.deployment, deployment_error=str(exc))

    check_port(host, port)
    app = create_app(Source(store, declared, facts), token, backends)
    mode = "actions need the token" if token else "read-only (set BRIDGE_DASHBOARD_TOKEN to allow moves)"
    say(f"dashboard: http://{host}:{port}/ ({mode})")
    if host not in LOOPBACK and not token:
        say(f"warning: listening on {host}, beyond this machine: anyone who reaches it reads the history")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)
