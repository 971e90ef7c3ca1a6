"""`bridge dev`: start, inspect and stop the local stack."""

from __future__ import annotations

from typing import Any

import click

from bridge.console.click_kit import handle_errors


@click.group()
def dev() -> None:
    """Start, inspect and stop the local stack (Airflow 3, Prefect 3, workers, SQS)."""


def _settings() -> Any:
    from bridge.devstack import StackSettings

    return StackSettings.from_env()


def _err(line: str) -> None:
    click.echo(line, err=True)


@dev.command("up")
@handle_errors
def dev_up() -> None:
    """Start every service that is not running (idempotent)."""
    from bridge import devstack

    s = _settings()
    devstack.up(s, say=_err)
    _print_status(devstack.status(s))
    click.echo(f"Airflow UI: {s.airflow_url}  (user {s.airflow_user})")
    click.echo(f"Prefect UI: {s.prefect_ui_url}")


@dev.command("down")
@handle_errors
def dev_down() -> None:
    """Stop exactly the processes `bridge dev up` started."""
    from bridge import devstack

    devstack.down(_settings(), say=_err)


@dev.command("status")
@handle_errors
def dev_status() -> None:
    """Show each service: running, healthy, pid, log. Exit 3 if any is not healthy."""
    from bridge import devstack
    from bridge.errors import StackError

    statuses = devstack.status(_settings())
    if not statuses:
        raise StackError("the stack was never started here: run `bridge dev up`")
    _print_status(statuses)
    unhealthy = [st.name for st in statuses if not st.healthy]
    if unhealthy:
        raise StackError(f"not healthy: {', '.join(unhealthy)}")


@dev.command("logs")
@click.argument("service", required=False)
@click.option("-n", "--lines", default=40, show_default=True, help="Lines per log.")
@handle_errors
def dev_logs(service: str | None, lines: int) -> None:
    """Print the last lines of one service's log (or of all)."""
    from bridge import devstack

    click.echo(devstack.logs(_settings(), service, lines))


def _print_status(statuses: list[Any]) -> None:
    for st in statuses:
        state = "healthy" if st.healthy else ("running, NOT healthy" if st.running else "stopped")
        pid = f"pid {st.pid}" if st.pid else ""
        click.echo(f"{st.name:<26} {state:<22} {pid:<10} {st.url or ''}  log: {st.log}")
