"""Noise is measured: hello_bridge with a random value, calibrated on two controls, then shadowed: a match
whose random paths are listed as noise with the spread calibration saw."""

from __future__ import annotations

from typing import Any

import pytest

from bridge import calibration
from bridge.compare.model import MATCH, NOISE

CONF = {"name": "ruido", "with_noise": True}
NOISY = ("result.lucky", "tasks.greet.value.lucky")


def _calibrated_then_shadowed(case: Any, _: Any) -> Any:
    b = case.backends_for("hello_bridge")
    measured = calibration.calibrate(b, "hello_bridge", {**CONF, "target": case.primary}, runs=2, timeout=120)
    return measured, case.shadow("hello_bridge", CONF, noise=measured.noise)


SCENARIOS = {"hello_after_calibration": _calibrated_then_shadowed}


@pytest.mark.control("hello_after_calibration")
def test_a_rerun_after_calibration_matches_with_the_noise_listed(ran: Any) -> None:
    case, (measured, result) = ran
    assert {n.path for n in measured.noise} == set(NOISY), measured.noise
    assert result.verdict == MATCH, case.explain(result)
    listed = {d.path: d for d in result.set_aside}
    assert set(NOISY) <= set(listed), case.explain(result)
    assert all(listed[p].kind == NOISE and listed[p].note for p in NOISY), case.explain(result)
