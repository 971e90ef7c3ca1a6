"""`bridge check`'s pure checks: what each concludes from what the servers said, and the fix it names."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.check import (
    CheckFailedError,
    CheckResult,
    dag_target,
    deployment_target,
    result_problem,
    selected,
    table_keys,
    task_names,
)
from bridge.config import ParamMapping, ShadowSettings, TableOutput, WorkflowEntry
from bridge.console.check import check_line
from bridge.errors import UnknownWorkflowError


def entry(**shadow: Any) -> WorkflowEntry:
    params = shadow.pop("params", ParamMapping())
    return WorkflowEntry(
        "etl_orders", "etl-orders/etl_orders", params=params, shadow=ShadowSettings(**shadow)
    )


TARGET_SCHEMA = {"properties": {"target": {"type": "string", "pattern": "^[a-z_][a-z0-9_]{0,62}$"}}}


def test_dag_target_default_must_equal_primary_target() -> None:
    ok = dag_target(entry(), {"target": {"value": "warehouse", "schema": {}}})
    assert ok.ok is True and ok.check == "dag_target"
    assert dag_target(entry(primary_target="public"), {"target": "public"}).ok is True  # a bare value
    wrong = dag_target(entry(primary_target="public"), {"target": {"value": "warehouse"}})
    assert wrong.ok is False
    assert "'warehouse'" in wrong.detail and "'public'" in wrong.detail
    assert "primary_target = 'warehouse'" in wrong.fix
    missing = dag_target(entry(), {"business_date": {"value": None}})
    assert missing.ok is False and "no `target` param" in missing.detail and "Param(" in missing.fix


def test_deployment_target_follows_the_params_mapping_and_the_schema() -> None:
    assert deployment_target(entry(), TARGET_SCHEMA).ok is True
    none = deployment_target(entry(), {"properties": {"count": {}}})
    assert none.ok is False and "takes no `target` parameter" in none.detail
    renamed = entry(params=ParamMapping(rename={"target": "schema"}))
    assert "takes no `schema` parameter" in deployment_target(renamed, TARGET_SCHEMA).detail
    assert deployment_target(renamed, {"properties": {"schema": {}}}).ok is True
    dropped = deployment_target(entry(params=ParamMapping(drop=("target",))), TARGET_SCHEMA)
    assert dropped.ok is False and "drop" in dropped.fix
    same = deployment_target(entry(target="warehouse"), TARGET_SCHEMA)
    assert same.ok is False and "write over the primary" in same.detail
    refused = deployment_target(entry(target="Shadow"), TARGET_SCHEMA)
    assert refused.ok is False and "does not match" in refused.detail
    enum = {"properties": {"target": {"enum": ["warehouse"]}}}
    assert "not one of 'warehouse'" in deployment_target(entry(), enum).detail


def test_result_problem_names_what_keeps_the_bridge_from_reading_a_result() -> None:
    def read(state: Any) -> Any:
        return {"total": 3}

    json_data = {"storage_key": "/x.json", "serializer": {"type": "json"}}
    assert result_problem(json_data, read) is None
    assert result_problem(None, read) == "did not persist its result"
    pickled = result_problem({**json_data, "serializer": {"type": "pickle"}}, read)
    assert pickled == "serialized its result with pickle, not json"
    unreadable = result_problem(json_data, lambda state: {"unreadable_result": "no file at /x.json"})
    assert unreadable is not None and "no file at /x.json" in unreadable

    def broken(state: Any) -> Any:
        raise ValueError("not JSON")

    assert "cannot read (ValueError: not JSON)" in (result_problem(json_data, broken) or "")


def test_task_names_line_up_directly_or_through_task_map() -> None:
    assert task_names(entry(), ["a", "b"], ["a", "b"]).ok is True
    mapped = task_names(
        entry(task_map={"consume": "consume_batch"}), ["consume", "x"], ["consume_batch", "x"]
    )
    assert mapped.ok is True and "through task_map" in mapped.detail
    off = task_names(entry(), ["greet"], ["greeting"])
    assert off.ok is False
    assert "Airflow tasks with no Prefect task of that name: greet" in off.detail
    assert "Prefect tasks no Airflow task maps to: greeting" in off.detail
    assert "task_map" in off.fix
    stale = task_names(entry(task_map={"gone": "x"}), ["a"], ["a"])
    assert stale.ok is False and "task_map names tasks the DAG lacks: gone" in stale.detail


def test_table_keys_declared_found_or_missing() -> None:
    tables = (
        TableOutput("orders", ("id",)),
        TableOutput("items"),
        TableOutput("audit"),
        TableOutput("logs", exclude="append-only noise"),
    )
    result = table_keys(entry(tables=tables), {"items": ("order_id", "line_no"), "audit": ()})
    assert result.ok is False
    assert "audit (no key declared, and warehouse.audit has no primary key)" in result.detail
    assert "logs" not in result.detail and "exclude" in result.fix
    gone = table_keys(entry(tables=tables[2:3]), {"audit": None})
    assert "has no such table" in gone.detail
    ok = table_keys(entry(tables=tables[:2]), {"items": ("order_id", "line_no")})
    assert ok.ok is True and "items (order_id, line_no)" in ok.detail


def test_selected_refuses_an_id_the_catalog_lacks_and_lines_read_as_documented() -> None:
    entries = {"etl_orders": entry()}
    assert selected(entries, ()) == [entries["etl_orders"]]
    with pytest.raises(UnknownWorkflowError, match="etl_order"):
        selected(entries, ("etl_order",))
    assert CheckFailedError("x").exit_code == 7
    failed = CheckResult("etl_orders", "dag", False, "airflow has no DAG 'etl_orders'", "put it there")
    assert check_line(failed) == "FAIL etl_orders: airflow has no DAG 'etl_orders'  fix: put it there"
    passed = CheckResult("etl_orders", "deployment", True, "prefect has deployment x", "unused")
    assert check_line(passed) == "ok   etl_orders: prefect has deployment x"
    unknown = CheckResult("etl_orders", "results", None, "no run yet", "run it once")
    assert check_line(unknown) == "warn etl_orders: no run yet  fix: run it once"
    assert failed.to_dict() == {
        "workflow": "etl_orders",
        "check": "dag",
        "ok": False,
        "detail": "airflow has no DAG 'etl_orders'",
        "fix": "put it there",
    }
