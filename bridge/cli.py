"""The `bridge` command: a thin click layer over the library. Heavy imports happen inside commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Turn a BridgeError into one line on stderr and its exit code; never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from bridge.errors import BridgeError

        try:
            return fn(*args, **kwargs)
        except BridgeError as exc:
            click.echo(f"bridge: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("bridge: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Drive Airflow 3 and Prefect 3 through one interface; shadow-run and compare them."""


@main.group()
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

    statuses = devstack.status(_settings())
    if not statuses:
        click.echo("the stack was never started here: run `bridge dev up`")
        sys.exit(3)
    _print_status(statuses)
    if not all(st.healthy for st in statuses):
        sys.exit(3)


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


if __name__ == "__main__":
    main()
