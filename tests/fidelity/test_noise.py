"""Noise is measured: hello_bridge with a random value, calibrated on two controls, then shadowed: a match
whose random paths are listed as noise with the spread calibration saw."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.compare.model import MATCH, NOISE

NOISY = ("result.lucky", "tasks.greet.value.lucky")


@pytest.mark.control("hello_after_calibration")
def test_a_rerun_after_calibration_matches_with_the_noise_listed(case: Any) -> None:
    from bridge.calibration import calibrate

    conf = {"name": "ruido", "with_noise": True}
    calibration = calibrate(
        case.backends_for("hello_bridge"),
        "hello_bridge",
        {**conf, "target": case.primary},
        runs=2,
        timeout=120,
    )
    assert {n.path for n in calibration.noise} == set(NOISY), calibration.noise
    result = case.shadow("hello_bridge", conf, noise=calibration.noise)
    assert result.verdict == MATCH, case.explain(result)
    listed = {d.path: d for d in result.set_aside}
    assert set(NOISY) <= set(listed), case.explain(result)
    assert all(listed[p].kind == NOISE and listed[p].note for p in NOISY), case.explain(result)
