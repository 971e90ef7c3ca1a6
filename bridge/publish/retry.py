"""Retry with backoff, bounded: a few tries, short waits doubling between them, and a total budget no
retry may pass. What a receiver refused (a 4xx, a command not found) is not retried: it will not pass."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

TRIES = 3
BACKOFF = 0.5  # seconds before the second try, doubled after each failed one
BUDGET = 20.0  # seconds after which no retry starts (a delivery: at most this plus one try's timeout)


class DeliveryError(Exception):
    """A try failed: ``reason`` in one line (never a URL: it may hold a secret); ``retry``: worth another."""

    def __init__(self, reason: str, *, retry: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


@dataclass(frozen=True)
class Attempt:
    """What became of one delivery: sent or not, after how many tries, and the last failure's reason."""

    ok: bool
    tries: int
    reason: str | None = None


def with_retries(
    send: Callable[[], None],
    *,
    tries: int = TRIES,
    backoff: float = BACKOFF,
    budget: float = BUDGET,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Attempt:
    """Call ``send`` until it returns, at most ``tries`` times, waiting ``backoff``, 2×, 4×… between
    tries; no further wait that would end past ``budget`` seconds since the first try (so a delivery
    takes at most ``budget`` plus one try's own timeout)."""
    started = clock()
    delay = backoff
    reason: str | None = None
    for attempt in range(1, tries + 1):
        try:
            send()
        except DeliveryError as exc:
            reason = exc.reason
            if not exc.retry:
                return Attempt(False, attempt, f"{reason} (not retried)")
        else:
            return Attempt(True, attempt)
        if attempt == tries:
            break
        if clock() - started + delay > budget:
            return Attempt(False, attempt, f"{reason} (gave up: the {budget:.0f} s budget)")
        sleep(delay)
        delay *= 2
    return Attempt(False, tries, f"{reason} (after {tries} tries)")
