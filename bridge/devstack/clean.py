"""`make clean`'s database step: drop the dev stack's metadata databases, only those the bridge marked.

    python -m bridge.devstack.clean [--i-own-this-database]

Reads the prefix the stack recorded (``<BRIDGE_HOME>/stack.json``); drops ``<prefix>_airflow`` and
``<prefix>_prefect`` on ``BRIDGE_DEV_POSTGRES_URL`` when each carries the bridge's marker (or is the dev
stack's default name). Anything else is refused in one line; exit 2 then, so `make clean` stops before it
removes the state that names those databases. An unreachable PostgreSQL is reported and skipped (exit 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from bridge.devstack import databases
from bridge.devstack.settings import StackSettings
from bridge.errors import BridgeError

OVERRIDE_HINT = "make clean I_OWN_THIS_DATABASE=1 drops it anyway"


def drop_stack_databases(s: StackSettings, *, i_own_this_database: bool = False) -> list[str]:
    """Drop the stack's metadata databases; return their names. Raises UsageError on one not the bridge's."""
    state = s.home / "stack.json"
    if not s.postgres_url or not state.exists():
        return []
    prefix = json.loads(state.read_text())["db_prefix"]
    names = [f"{prefix}_{system}" for system in ("airflow", "prefect")]
    for name in names:
        databases.drop_database(
            s.postgres_url, name, i_own_this_database=i_own_this_database, override_hint=OVERRIDE_HINT
        )
    return names


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `make clean`'s database step; returns the exit code."""
    import psycopg

    parser = argparse.ArgumentParser(prog="python -m bridge.devstack.clean", description=__doc__)
    parser.add_argument("--i-own-this-database", action="store_true", help="drop them even unmarked")
    args = parser.parse_args(argv)
    try:
        dropped = drop_stack_databases(StackSettings.from_env(), i_own_this_database=args.i_own_this_database)
    except BridgeError as exc:
        print(f"make clean: {exc}", file=sys.stderr)
        return exc.exit_code
    except psycopg.OperationalError as exc:
        print(
            f"make clean: the stack's databases were not dropped: {str(exc).splitlines()[0]}", file=sys.stderr
        )
        return 0
    if dropped:
        print(f"dropped the stack's databases {', '.join(dropped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
