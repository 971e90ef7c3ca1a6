"""The smoke workflow's one rule, shared by its DAG and its flow."""

from __future__ import annotations

import secrets
import time


def greet(name: str, target: str, sleep_s: float = 0.0, with_noise: bool = False) -> dict[str, object]:
    """A greeting and its length; sleeps ``sleep_s`` first; adds a random ``lucky`` token if ``with_noise``
    (a value that varies between any two runs: what calibration must measure)."""
    if sleep_s > 0:
        time.sleep(sleep_s)
    out: dict[str, object] = {"greeting": f"hello {name}", "target": target, "length": len(name)}
    if with_noise:
        out["lucky"] = secrets.token_hex(8)
    return out
