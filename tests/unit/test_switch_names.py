"""The names and rules the cutover's two sides must share, kept equal where they cannot import each other;
and what flows.deploy registers a deployment with, given what the server already holds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bridge.backends import airflow as airflow_backend
from bridge.backends import base
from bridge.errors import UsageError
from flows.deploy import registered_state
from flows.spec import DeploymentSpec
from pipelines.common.targets import TARGET_PATTERN

REPO = Path(__file__).resolve().parents[2]


def _constant(path: Path, name: str) -> object:
    """A module-level constant of a file this environment cannot import (dags_legacy needs airflow)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not in {path}")


def test_the_dags_read_the_variable_the_bridge_sets() -> None:
    dag_side = _constant(REPO / "dags_legacy" / "dag_common.py", "TARGET_VARIABLE_PREFIX")
    assert dag_side == airflow_backend.TARGET_VARIABLE_PREFIX == "bridge_target__"


def test_the_bridge_refuses_the_targets_the_workloads_refuse() -> None:
    assert base.TARGET_PATTERN == TARGET_PATTERN
    assert base.check_target("demo_shadow") == "demo_shadow"
    for bad in ("Shadow", "pg_catalog", "information_schema", "a-b", ""):
        with pytest.raises(UsageError):
            base.check_target(bad)


SPEC = DeploymentSpec("f", "d", "flows/f.py:f", None, parameters={"target": "warehouse", "x": 1})


def test_a_new_deployment_is_registered_paused_with_the_spec_parameters() -> None:
    assert registered_state(SPEC, None, None) == (True, {"target": "warehouse", "x": 1})
    assert registered_state(SPEC, None, False) == (False, {"target": "warehouse", "x": 1})


def test_an_existing_deployment_keeps_its_paused_state_and_target() -> None:
    existing = (False, {"target": "warehouse_shadow", "x": 0})
    assert registered_state(SPEC, existing, None) == (False, {"target": "warehouse_shadow", "x": 1})
    assert registered_state(SPEC, (True, {}), None) == (True, {"target": "warehouse", "x": 1})
    assert registered_state(SPEC, existing, True) == (True, {"target": "warehouse_shadow", "x": 1})
