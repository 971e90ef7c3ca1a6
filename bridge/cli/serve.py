"""`bridge serve`: the web dashboard over the history store."""

from __future__ import annotations

import click

from bridge.console.click_kit import handle_errors


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8790,
    envvar="BRIDGE_DASHBOARD_PORT",
    show_default=True,
    help="Port to listen on (BRIDGE_DASHBOARD_PORT).",
)
@handle_errors
def serve(host: str, port: int) -> None:
    """The dashboard: every workflow's stage, streak, last verdict, unmet gates and next command; each
    workflow's history, latest comparison and both runs side by side with links into the Airflow and
    Prefect UIs. Read-only unless BRIDGE_DASHBOARD_TOKEN is set: then promote / cutover / retire /
    rollback forms need that token and are audited as dashboard:<who>."""
    from bridge.console.serve import serve as run

    run(host, port)
