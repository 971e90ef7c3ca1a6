"""The workflow registry (``pipelines.common.workflows``) against the catalog, the DAG files and the flows.

The registry is the one place a workflow's wiring is written; this checks that ``bridge.toml`` names the
same deployments and tables, and that ``dags_legacy/`` and ``flows/`` declare exactly its workflows.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from bridge import config
from pipelines.common.workflows import WORKFLOWS, workflow
from pipelines.jobs.dispatch import DISPATCHERS

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DAG_HELPERS = {"dag_common"}
#: Not catalogued on purpose (``pipelines.jobs.dispatch``): the queue dispatchers, one file per side.
DISPATCHER_FILES = {"queue_dispatchers"}


def test_every_catalogued_workflow_is_registered_with_its_derived_deployment_and_tables() -> None:
    catalog = config.load(REPO / "bridge.toml", env={})
    assert set(catalog.workflows) == set(WORKFLOWS)
    for dag_id, entry in catalog.workflows.items():
        wf = workflow(dag_id)
        assert entry.deployment == wf.deployment == f"{wf.id.replace('_', '-')}/{wf.id}"
        assert {t.table for t in entry.shadow.tables} == set(wf.tables), dag_id


def test_the_catalog_task_map_is_where_dag_and_flow_task_names_differ() -> None:
    catalog = config.load(REPO / "bridge.toml", env={})
    for dag_id, entry in catalog.workflows.items():
        wf = workflow(dag_id)
        differ = {a: p for a, p in zip(wf.tasks, wf.prefect_tasks, strict=True) if a != p}
        assert dict(entry.shadow.task_map) == differ, dag_id


def test_every_dag_file_is_one_registered_workflow_named_by_its_id() -> None:
    stems = {p.stem for p in (REPO / "dags_legacy").glob("*.py")} - DAG_HELPERS - DISPATCHER_FILES
    assert stems == set(WORKFLOWS)
    for stem in stems:
        tree = ast.parse((REPO / "dags_legacy" / f"{stem}.py").read_text())
        named = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in WORKFLOWS
        }
        assert named <= {stem}, f"dags_legacy/{stem}.py names another workflow: {named - {stem}}"


def test_the_flows_deploy_exactly_the_registered_workflows_with_their_wiring() -> None:
    from flows.deploy import discover

    specs = [s for s in discover() if s.name not in DISPATCHERS.values()]
    assert sorted(s.name for s in specs) == sorted(WORKFLOWS)
    for spec in specs:
        wf = workflow(spec.name)
        assert (spec.flow_name, spec.full_name) == (wf.flow_name, wf.deployment)
        assert (spec.schedule, spec.tags, spec.description) == (wf.schedule, wf.tags, wf.summary)
        path, _, function = spec.entrypoint.partition(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert function == wf.id and getattr(module, function).name == wf.flow_name


def test_derived_names_and_schedule_text() -> None:
    wf = workflow("full_migration_weekly")
    assert (wf.flow_name, wf.deployment_name) == ("full-migration-weekly", "full_migration_weekly")
    assert wf.schedule_text == "Sundays at 03:00 America/Sao_Paulo"
    assert workflow("etl_orders").schedule_text == "hourly at :15 UTC"
    assert workflow("update_prices_daily").schedule_text == "daily at 06:00 America/Sao_Paulo"
    assert workflow("rabbitmq_worker").schedule_text == "triggered"
    with pytest.raises(KeyError, match="known"):
        workflow("nope")


def test_the_dispatchers_are_deployed_every_minute_and_name_no_catalogued_workflow() -> None:
    from flows.deploy import discover

    specs = {s.name: s for s in discover() if s.name in DISPATCHERS.values()}
    assert set(specs) == set(DISPATCHERS.values()) and not set(specs) & set(WORKFLOWS)
    for spec in specs.values():
        assert (spec.schedule, spec.interval_seconds, spec.concurrency_limit) == (None, 60, 1)
