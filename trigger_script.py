#!/usr/bin/env python3
"""The legacy trigger script, now over both orchestrators.

    python3 trigger_script.py --list
    python3 trigger_script.py --dag-id meu_dag_id
    python3 trigger_script.py --dag-id meu_dag_id --conf '{"param1": "valor1", "param2": 123}'
    python3 trigger_script.py --dag-id meu_dag_id --username meuusuario --password minhasenha

It runs with any python3: it hands itself to the project's .venv interpreter, moving --password out of the
command line into the environment on the way, so the password never shows in the process list.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    import argparse

REPO = Path(__file__).resolve().parent
VENV = REPO / ".venv"


def _handoff() -> None:
    """Re-exec under .venv's python (if not already there, or to hide a --password).

    Every --password (``--password X``, ``--password=X``) leaves the command line for the environment;
    an abbreviation (``--pass X``, ``--passw=X``) is refused here, before anything shows it, and an empty
    password too (it would otherwise mean "no password")."""
    args = sys.argv[1:]
    env = dict(os.environ)
    kept: list[str] = []
    hid = False
    i = 0
    while i < len(args):
        arg = args[i]
        flag, has_value, value = arg.partition("=")
        if arg == "--":
            kept += args[i:]
            break
        if flag.startswith("--pa") and "--password".startswith(flag):
            if flag != "--password":
                _refuse(f"{flag} is not a flag: spell it --password (or set BRIDGE_AIRFLOW_PASSWORD)")
            if not has_value:
                if i + 1 >= len(args):
                    _refuse("--password needs a value (or set BRIDGE_AIRFLOW_PASSWORD)")
                value = args[i + 1]
                i += 1
            if not value:
                _refuse("--password is empty: give the password, or leave the flag out")
            env["BRIDGE_AIRFLOW_PASSWORD"] = value
            hid = True
        else:
            kept.append(arg)
        i += 1
    in_venv = Path(sys.prefix).resolve() == VENV.resolve()
    if in_venv and not hid:
        return
    python = VENV / "bin" / "python"
    if not python.exists():
        sys.stderr.write("trigger_script: the project's environment is not built yet: run `make setup`\n")
        sys.exit(2)
    os.execve(str(python), [str(python), str(Path(__file__).resolve()), *kept], env)


def _refuse(message: str) -> NoReturn:
    """A usage error found before the hand-off: one line (never the value), exit 2; a JSON object too
    with --json."""
    import json

    sys.stderr.write(f"trigger_script: {message} (see --help)\n")
    if "--json" in sys.argv[1:]:
        print(json.dumps({"error": message, "exit_code": 2, "kind": "UsageError", "run": None}))
    sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    import argparse

    p = argparse.ArgumentParser(
        prog="trigger_script.py",
        allow_abbrev=False,  # --pass would be --password, which the hand-off must see spelt out
        description="List and trigger workflows on Airflow 3 and/or Prefect 3 (see bridge.toml).",
        epilog="Exit codes: 0 ok, 1 run failed, 2 bad usage or input (a paused DAG without --unpause, a conf "
        "the DAG's params refuse), 3 backend unreachable, auth failed or no worker to start the run, "
        "4 shadow mismatch (with --fail-on-mismatch), 6 --wait timed out (the run goes on), 130 interrupted. "
        "--list exits 3 when either side (Airflow or Prefect) is unreachable, after printing what the other "
        "side knows and one line naming the side down. With --json every failure is also a JSON object on "
        "stdout: error, exit_code, kind, run (docs/json-schema.json). "
        "Password: --password, BRIDGE_AIRFLOW_PASSWORD, or a prompt.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--list", action="store_true", help="list every workflow either system knows")
    what.add_argument("--dag-id", help="the workflow (Airflow dag_id) to trigger")
    p.add_argument("--conf", help="JSON object passed as the DAG run conf / flow parameters")
    p.add_argument("--username", help="Airflow username (default from bridge.toml)")
    p.add_argument("--password", help="Airflow password (better: BRIDGE_AIRFLOW_PASSWORD)")
    p.add_argument(
        "--backend",
        choices=("auto", "airflow", "prefect"),
        default="auto",
        help="where to run it; auto follows the workflow's stage (default)",
    )
    p.add_argument("--wait", action="store_true", help="wait for the run, then print its state and outputs")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds --wait waits (default 3600)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--url",
        help="the Airflow base URL, overriding bridge.toml (with --backend prefect: the Prefect API URL); "
        "never applied to both sides",
    )
    p.add_argument(
        "--shadow",
        action="store_true",
        help="run on Airflow (authoritative) and Prefect at once and compare (stage shadow does this)",
    )
    p.add_argument("--fail-on-mismatch", action="store_true", help="with --shadow: exit 4 on a mismatch")
    p.add_argument(
        "--unpause",
        action="store_true",
        help="unpause a paused DAG (and say so) before triggering it; without it a paused DAG is refused",
    )
    return p


def main() -> int:
    """Parse, run, and return the exit code; closed or full standard streams are one line and a code."""
    from bridge.console.streams import prepare, settle

    closed = prepare("trigger_script")
    if closed is not None:
        return closed
    try:
        code = _main()
    except SystemExit as exc:  # argparse: --help, a usage error
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return settle(code, "trigger_script")


def _main() -> int:
    parser = _parser()
    parser.error = _usage_error  # type: ignore[method-assign]  # one line (a JSON object too with --json)
    args = parser.parse_args()
    from bridge import console

    password = args.password or os.environ.get("BRIDGE_AIRFLOW_PASSWORD")
    url = args.url
    if url and args.backend == "auto":  # the legacy script's flag: Airflow's URL, whichever side runs it
        os.environ["BRIDGE_AIRFLOW_URL"] = url
        url = None
    opts = console.Options(
        backend=args.backend,
        url=url,
        username=args.username,
        password=password,
        as_json=args.json,
        wait=args.wait,
        timeout=args.timeout,
        shadow=args.shadow,
        fail_on_mismatch=args.fail_on_mismatch,
        unpause=args.unpause,
    )
    if args.list:
        return console.guarded(lambda: console.list_workflows(opts), prog="trigger_script", as_json=args.json)
    return console.guarded(
        lambda: console.trigger(args.dag_id, args.conf, opts), prog="trigger_script", as_json=args.json
    )


def _usage_error(message: str) -> NoReturn:
    """argparse's usage error as one line, not the whole usage; with --json, a JSON object too."""
    _refuse(message)


if __name__ == "__main__":
    _handoff()
    sys.path.insert(0, str(REPO))
    sys.exit(main())
