"""The fault matrix's pure logic: a row's items counted (in, out, lost, duplicated), its pass computed from
what it observed, the table printed. No services here: tests/unit/test_faults_table.py runs it on fakes."""

from __future__ import annotations

import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

COLUMNS = ("fault", "expected", "observed", "in", "out", "lost", "dup", "result")


@dataclass(frozen=True)
class Tally:
    """Items a row sent and got back: messages, rows, runs or commands. ``lost``: sent and never seen;
    ``duplicated``: seen more than once; ``unexpected``: seen and never sent."""

    items_in: int
    items_out: int
    lost: int
    duplicated: int
    unexpected: int = 0


def tally(sent: Iterable[object], seen: Iterable[object]) -> Tally:
    """Count ``seen`` against ``sent`` by identity (a message id, a run id, a row key)."""
    sent_list, seen_list = list(sent), list(seen)
    wanted, counts = set(sent_list), Counter(seen_list)
    return Tally(
        items_in=len(sent_list),
        items_out=len(seen_list),
        lost=len(wanted - set(counts)),
        duplicated=sum(n - 1 for n in counts.values() if n > 1),
        unexpected=sum(n for item, n in counts.items() if item not in wanted),
    )


@dataclass(frozen=True)
class Seen:
    """What a row's fault did: ``observed`` in one line, ``held`` whether every expectation of the row held
    (computed by the row from what it read back), and its items."""

    observed: str
    held: bool
    items: Tally


@dataclass(frozen=True)
class Row:
    fault: str
    expected: str
    seen: Seen
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """The row holds: its own checks, nothing lost, nothing twice, nothing that was never sent."""
        i = self.seen.items
        return self.seen.held and i.lost == 0 and i.duplicated == 0 and i.unexpected == 0


def run_row(
    fault: str, expected: str, body: Callable[[], Seen], clock: Callable[[], float] = time.monotonic
) -> Row:
    """Run one row; an exception (a failed assert among them) is a failed row naming it, never a crash of
    the matrix."""
    start = clock()
    try:
        seen = body()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a row's failure, whatever it is, is that row's result
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        at = f" ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
        text = " ".join(f"{type(exc).__name__}: {exc}".split())
        seen = Seen(f"error{at}: {text[:300]}", False, Tally(0, 0, 0, 0))
    return Row(fault, expected, seen, clock() - start)


def render(rows: list[Row], width: int = 60) -> str:
    """The table: one line per row (long cells wrapped), then the totals line."""
    import textwrap

    cells = [
        (
            r.fault,
            r.expected,
            r.seen.observed,
            str(r.seen.items.items_in),
            str(r.seen.items.items_out),
            str(r.seen.items.lost),
            str(r.seen.items.duplicated),
            ("pass" if r.passed else "FAIL") + f" {r.seconds:.0f}s",
        )
        for r in rows
    ]
    wrapped = [[textwrap.wrap(c, width) or [""] for c in row] for row in cells]
    widths = [
        max([len(h)] + [len(line) for row in wrapped for line in row[i]]) for i, h in enumerate(COLUMNS)
    ]

    def line(parts: list[str]) -> str:
        return "| " + " | ".join(p.ljust(w) for p, w in zip(parts, widths, strict=True)) + " |"

    out = [line(list(COLUMNS)), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in wrapped:
        for k in range(max(len(c) for c in row)):
            out.append(line([c[k] if k < len(c) else "" for c in row]))
    failed = sum(not r.passed for r in rows)
    out.append(f"{len(rows)} rows: {len(rows) - failed} pass, {failed} fail")
    return "\n".join(out)


def exit_code(rows: list[Row]) -> int:
    """0 only when there were rows and every one passed."""
    return 0 if rows and all(r.passed for r in rows) else 1
