"""Fail when a tracked Python module is over the line limit (400): small modules are a house rule.

Usage: ``python tools/check_module_size.py [ROOT] [--max N]``. ROOT (default: the current directory) must
be a git work tree; its tracked ``*.py`` files are counted (untracked scratch files are not the house's).
Exit 0 when every module fits, 1 naming each module over the limit and its line count.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

LIMIT = 400


def tracked_modules(root: Path) -> list[Path]:
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--", "*.py"], check=True, capture_output=True, text=True
    ).stdout
    return [root / name for name in out.split("\0") if name]


def line_count(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def oversized(root: Path, limit: int) -> list[tuple[Path, int]]:
    counts = ((path, line_count(path)) for path in tracked_modules(root) if path.is_file())
    return sorted((path, n) for path, n in counts if n > limit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=".", type=Path)
    parser.add_argument("--max", type=int, default=LIMIT, help=f"line limit (default {LIMIT})")
    args = parser.parse_args(argv)
    too_big = oversized(args.root, args.max)
    for path, n in too_big:
        print(f"module-size: {path.relative_to(args.root)} has {n} lines (limit {args.max})")
    if too_big:
        return 1
    print(f"module-size: every tracked module has at most {args.max} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
