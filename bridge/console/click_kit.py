"""The click pieces every `bridge` command shares: errors as one line and an exit code, the backend flags
trigger_script.py has too, Options from the environment, and a group whose usage errors honour --json."""

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
    def wrapper(*args: Any, **kwargs: Any) -> None:
        from bridge.console import guarded

        code = guarded(lambda: fn(*args, **kwargs), as_json=bool(kwargs.get("as_json")))
        if code:
            sys.exit(code)

    return wrapper  # type: ignore[return-value]


def backend_options(fn: F) -> F:
    """The flags every command that talks to an orchestrator shares with trigger_script.py."""
    for option in reversed(
        [
            click.option(
                "--backend",
                type=click.Choice(["auto", "airflow", "prefect"]),
                default="auto",
                show_default=True,
                help="Which orchestrator; auto follows the workflow's stage.",
            ),
            click.option("--url", help="The backend's base URL, overriding bridge.toml."),
            click.option("--username", help="Airflow username."),
            click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
        ]
    ):
        fn = option(fn)
    return fn


def options(**kw: Any) -> Any:
    import os

    from bridge.console import Options

    return Options(password=os.environ.get("BRIDGE_AIRFLOW_PASSWORD"), **kw)


class JsonAwareGroup(click.Group):
    """With --json, a usage error (an unknown flag, a missing argument) is a JSON object on stdout too."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command; closed or full standard streams are one line and a code (never noise)."""
        from bridge.console.streams import prepare, settle

        closed = prepare("bridge")
        if closed is not None:
            sys.exit(closed)
        try:
            result = self._main(*args, **kwargs)
        except OSError as exc:  # click printing --help or a usage error to a full or closed stdout
            from bridge.console.streams import is_output_error, output_failed

            if not is_output_error(exc):
                raise
            sys.exit(output_failed(exc, "bridge"))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            sys.exit(settle(code, "bridge"))
        code = settle(0, "bridge")
        if code:
            sys.exit(code)
        return result

    def _main(self, *args: Any, **kwargs: Any) -> Any:
        argv = kwargs.get("args") or (args[0] if args else None) or sys.argv[1:]
        if "--json" not in argv:
            return super().main(*args, **kwargs)
        try:
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.UsageError as exc:
            import json

            click.echo(f"bridge: {exc.format_message()} (see --help)", err=True)
            click.echo(
                json.dumps({"error": exc.format_message(), "exit_code": 2, "kind": "UsageError", "run": None})
            )
            sys.exit(2)
        except click.exceptions.Abort:
            sys.exit(130)
