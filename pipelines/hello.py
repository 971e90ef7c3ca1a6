"""The smoke workflow's one rule, shared by its DAG and its flow."""

from __future__ import annotations

import random
import time


def greet(name: str, target: str, sleep_s: float = 0.0, with_noise: bool = False) -> dict[str, object]:
    """A greeting and its length; sleeps ``sleep_s`` first; adds a random ``lucky`` number if ``with_noise``."""
    if sleep_s > 0:
        time.sleep(sleep_s)
    out: dict[str, object] = {"greeting": f"hello {name}", "target": target, "length": len(name)}
    if with_noise:
        out["lucky"] = random.randint(0, 10**9)
    return out
