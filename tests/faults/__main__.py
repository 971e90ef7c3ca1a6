"""`make faults`: the fault matrix on a private stack, one table, exit 1 if a row failed.

    python -m tests.faults [--only NAME,...] [--list]

Each row injects one fault, reads back what happened and computes its pass (tests/faults/table.py); the
stack, its databases and every queue a row made are removed at the end, on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.faults.table import Row, exit_code, render, run_row


def rows() -> list[tuple[str, str, str, object]]:
    from tests.faults import rows_data, rows_runs, rows_watch

    return [*rows_runs.ROWS, *rows_data.ROWS, *rows_watch.ROWS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated row names (see --list)")
    parser.add_argument("--list", action="store_true", help="list the rows and exit")
    args = parser.parse_args(argv)
    matrix = rows()
    if args.list:
        for name, fault, expected, _ in matrix:
            print(f"{name:<16} {fault}: {expected}")
        return 0
    only = {n for n in args.only.split(",") if n}
    unknown = only - {name for name, *_ in matrix}
    if unknown:
        print(f"unknown row(s): {', '.join(sorted(unknown))}; see --list", file=sys.stderr)
        return 2
    chosen = [r for r in matrix if not only or r[0] in only]

    from tests.faults.stack import private_stack

    def say(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    started = time.monotonic()
    done: list[Row] = []
    try:
        with private_stack(say) as private:
            say(f"stack ready in {time.monotonic() - started:.0f} s")
            for name, fault, expected, body in chosen:
                say(f"row {name}: {fault}")
                row = run_row(fault, expected, lambda body=body: body(private, say))  # type: ignore[misc,operator]
                say(
                    f"row {name}: {'pass' if row.passed else 'FAIL'} in {row.seconds:.0f} s: {row.seen.observed}"
                )
                done.append(row)
    except KeyboardInterrupt:
        print(render(done), flush=True)
        print("interrupted: the private stack was torn down", file=sys.stderr)
        return 130
    except Exception as exc:  # the stack did not start (or tear down): one line, what was done so far
        print(render(done), flush=True)
        print(f"faults: {type(exc).__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    print(render(done), flush=True)
    print(f"total {time.monotonic() - started:.0f} s (stack start and teardown included)", flush=True)
    return exit_code(done)


if __name__ == "__main__":
    sys.exit(main())
