"""`bridge check` against the real test stack, run as a person runs it: the repo's catalog passes, and a
catalog broken once per condition (no DAG, a target default that is not primary_target, no deployment, a
deployment without `target`, results not persisted as JSON, task names that do not line up, an unwritable
shadow target, a table without a key) fails each check with a line naming the problem and its fix."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, conforms, run_prefect_script, wait_for_dags

BRIDGE = str(REPO / ".venv" / "bin" / "bridge")
TAG = secrets.token_hex(3)
RO_ROLE = f"bridge_ck_{TAG}"  # a database user that may read the warehouse, not write it
RO_PASSWORD = f"ck-secret-{TAG}"
KEYLESS = f"ck_nokey_{TAG}"  # a table of the primary target without a primary key

# Ports of hello_bridge gone wrong: one pickles its results, one names its task differently, one takes no
# target. Deployed from a folder of the test's own onto the test stack's "worker" pool.
FLOWS = """
from prefect import flow, task


@task(persist_result=True, result_serializer="pickle")
def greet(target: str) -> dict:
    return {"target": target}


@flow(name="check-pickled", persist_result=True, result_serializer="pickle")
def check_pickled(name: str = "world", target: str = "public", sleep_s: float = 0, with_noise: bool = False) -> dict:
    return greet(target)


@task(persist_result=True, result_serializer="json")
def greeting(target: str) -> dict:
    return {"target": target}


@flow(name="check-renamed", persist_result=True, result_serializer="json")
def check_renamed(name: str = "world", target: str = "public", sleep_s: float = 0, with_noise: bool = False) -> dict:
    return greeting(target)


@flow(name="check-no-target", persist_result=True, result_serializer="json")
def check_no_target(business_date: str | None = None) -> dict:
    return {"business_date": business_date}
"""
DEPLOY = """
from prefect import Flow
for name in ("check-pickled", "check-renamed", "check-no-target"):
    f = Flow.from_source(source={src!r}, entrypoint="check_flows.py:" + name.replace("-", "_"))
    f.deploy(name=name, work_pool_name="worker", build=False, push=False, print_next_steps=False)
"""


def bridge(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [BRIDGE, "check", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert RO_PASSWORD not in proc.stdout + proc.stderr  # a secret in a URL is never printed
    return proc


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.fixture(scope="module")
def warehouse(stack: Any) -> Iterator[str]:
    """A read-only role and a keyless table in the test warehouse; the role's URL (with a password)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = dict(stack.extra_env)["BRIDGE_WAREHOUSE_URL"]
    conn = psycopg.connect(url, autocommit=True)
    had_schema = bool(conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'warehouse'").fetchall())
    conn.execute(f"CREATE ROLE {RO_ROLE} LOGIN PASSWORD '{RO_PASSWORD}'")
    conn.execute("CREATE SCHEMA IF NOT EXISTS warehouse")
    conn.execute(f"CREATE TABLE warehouse.{KEYLESS} (id integer, note text)")
    try:
        yield make_url(url).set(username=RO_ROLE, password=RO_PASSWORD).render_as_string(hide_password=False)
    finally:
        conn.execute(f"DROP TABLE IF EXISTS warehouse.{KEYLESS}")
        if not had_schema:
            conn.execute("DROP SCHEMA IF EXISTS warehouse")
        conn.execute(f"DROP ROLE IF EXISTS {RO_ROLE}")
        conn.close()


@pytest.fixture(scope="module")
def env(stack: Any, deployed: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The test stack with the broken ports deployed, and hello-bridge and two of them run once (whether a
    deployment persists JSON results, and its task names, are known from a completed run)."""
    from bridge.backends.airflow import AirflowBackend
    from bridge.backends.prefect import PrefectBackend

    src = tmp_path_factory.mktemp("check-flows")
    (src / "check_flows.py").write_text(FLOWS)
    run_prefect_script(stack.prefect_url, DEPLOY.format(src=str(src)))
    airflow = AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password)
    wait_for_dags(airflow, ("hello_bridge", "update_prices_daily", "zoo_branch"))
    prefect = PrefectBackend(stack.prefect_url)
    refs = [
        prefect.trigger(dep, {}, f"check-{TAG}-{i}")
        for i, dep in enumerate(
            ("hello-bridge/hello_bridge", "check-pickled/check-pickled", "check-renamed/check-renamed")
        )
    ]
    for ref in refs:
        assert prefect.wait(ref, 180).state.value == "success", ref
    return deployed


def catalog(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def broken(env: dict[str, str], warehouse: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`bridge check` (text and --json) over the repo's catalog with one entry broken per condition."""
    text = (REPO / "bridge.toml").read_text()
    text = edit(
        text,
        "[workflows.update_prices_daily.shadow]\n",
        '[workflows.update_prices_daily.shadow]\nprimary_target = "public"  # the DAG says warehouse\n',
    )
    text = edit(text, '"process-products/process_products"', '"check-no-target/check-no-target"')
    text = edit(text, '"etl-products/etl_products"', '"etl-products/nowhere"')
    text = edit(text, '"hello-bridge/hello_bridge"', '"check-pickled/check-pickled"')
    text = edit(
        text,
        '[[workflows.etl_orders.shadow.tables]]\ntable = "orders"\nkey = ["id"]\n',
        f'[[workflows.etl_orders.shadow.tables]]\ntable = "orders"\nkey = ["id"]\nprefect_url = "{warehouse}"\n',
    )
    text += (
        f'\n[[workflows.full_migration_weekly.shadow.tables]]\ntable = "{KEYLESS}"\n'
        '\n[workflows.ghost_dag]\ndeployment = "hello-bridge/hello_bridge"\n'
        '\n[workflows.zoo_branch]\ndeployment = "hello-bridge/hello_bridge"\n'
        'shadow = { primary_target = "public", discover = false }\n'
    )
    where = tmp_path_factory.mktemp("check-catalog")
    broken_env = {**env, "BRIDGE_CONFIG": str(catalog(where / "bridge.toml", text))}
    renamed = edit(
        (REPO / "bridge.toml").read_text(), '"hello-bridge/hello_bridge"', '"check-renamed/check-renamed"'
    )
    renamed_env = {**env, "BRIDGE_CONFIG": str(catalog(where / "renamed.toml", renamed))}
    as_json = bridge(broken_env, "--json")
    text_run = bridge(broken_env)
    print(text_run.stdout, text_run.stderr)  # shown with -s
    return {
        "text": text_run,
        "json": as_json,
        "doc": conforms(json.loads(as_json.stdout), "check"),
        "renamed": bridge(renamed_env, "hello_bridge"),
    }


def fail_line(proc: subprocess.CompletedProcess[str], workflow: str, *words: str) -> str:
    """The FAIL line of ``workflow`` that holds every one of ``words``."""
    lines = [
        line
        for line in proc.stdout.splitlines()
        if line.startswith(f"FAIL {workflow}: ") and all(w in line for w in words)
    ]
    assert len(lines) == 1, (workflow, words, proc.stdout)
    assert "  fix: " in lines[0]
    return lines[0]


def failed(doc: dict[str, Any], workflow: str, check: str) -> dict[str, Any]:
    (item,) = [c for c in doc["checks"] if c["workflow"] == workflow and c["check"] == check]
    assert item["ok"] is False and item["fix"], item
    return item


def test_the_repo_catalog_passes_on_the_test_stack(env: dict[str, str]) -> None:
    proc = bridge(env)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "FAIL" not in proc.stdout
    *lines, summary = proc.stdout.splitlines()
    assert summary.startswith("8 workflows, ") and ": 0 failed" in summary, summary
    for line in lines:
        assert line.startswith(("ok   ", "warn ")), line
    print(proc.stdout)  # shown with -s: what a first-time user sees
    # hello_bridge's deployment has run: every one of its checks is known, and holds
    hello = [line for line in proc.stdout.splitlines() if " hello_bridge: " in line]
    assert len(hello) == 6 and all(line.startswith("ok   ") for line in hello), hello
    assert any("tasks line up" in line and "greet" in line for line in hello)
    assert any("persisted 2 results as JSON" in line for line in hello)
    # the others never ran here: results and task names are not known yet, and said so with the fix
    assert "warn etl_orders: deployment etl-orders/etl_orders has no completed run" in proc.stdout
    assert "ok   etl_orders: shadow target 'shadow_warehouse' is writable" in proc.stdout
    assert (
        "ok   etl_orders: declared tables have keys: orders (id), order_items (order_id, line_no)"
        in proc.stdout
    )
    assert "ok   rabbitmq_worker: deployment rabbitmq-worker/rabbitmq_worker takes target" in proc.stdout
    doc = conforms(json.loads(bridge(env, "--json", "hello_bridge", "etl_orders").stdout), "check")
    assert doc["exit_code"] == 0 and doc["failed"] == 0
    assert {c["workflow"] for c in doc["checks"]} == {"hello_bridge", "etl_orders"}


def test_broken_catalog_exits_7_with_one_error_line_and_one_json_object(broken: dict[str, Any]) -> None:
    text, as_json, doc = broken["text"], broken["json"], broken["doc"]
    assert text.returncode == as_json.returncode == 7, (text.stdout, text.stderr)
    assert text.stderr.count("\n") == 1 and text.stderr.startswith("bridge: 9 checks failed (")
    assert "10 workflows, 70 checks: 9 failed, 12 not known yet" in text.stdout
    assert doc["exit_code"] == 7 and doc["failed"] >= 8
    assert set(doc["checks"][0]) == {"workflow", "check", "ok", "detail", "fix"}
    assert len(as_json.stdout.strip().splitlines()) > 1 and as_json.stdout.count('"exit_code"') == 1


def test_a_dag_that_does_not_exist(broken: dict[str, Any]) -> None:
    line = fail_line(broken["text"], "ghost_dag", "airflow has no DAG 'ghost_dag'")
    assert "DAG folder" in line
    assert failed(broken["doc"], "ghost_dag", "dag")
    assert "ghost_dag: prefect has deployment hello-bridge/hello_bridge" in broken["text"].stdout


def test_a_dag_without_a_target_param(broken: dict[str, Any]) -> None:
    line = fail_line(broken["text"], "zoo_branch", "DAG zoo_branch has no `target` param")
    assert "add params={'target': Param('public'" in line


def test_a_target_default_other_than_primary_target(broken: dict[str, Any]) -> None:
    line = fail_line(broken["text"], "update_prices_daily", "`target` default is 'warehouse'", "'public'")
    assert "fix: set [workflows.update_prices_daily.shadow] primary_target = 'warehouse'" in line
    assert failed(broken["doc"], "update_prices_daily", "dag_target")


def test_a_deployment_that_does_not_exist(broken: dict[str, Any]) -> None:
    line = fail_line(broken["text"], "etl_products", "prefect has no deployment 'etl-products/nowhere'")
    assert "etl-products/etl_products" in line  # the near name
    assert "python -m flows.deploy" in line


def test_a_deployment_without_a_target_parameter(broken: dict[str, Any]) -> None:
    line = fail_line(broken["text"], "process_products", "check-no-target/check-no-target takes no `target`")
    assert "rename = { target" in line
    assert failed(broken["doc"], "process_products", "deployment_target")


def test_a_deployment_not_persisting_json_results(broken: dict[str, Any]) -> None:
    line = fail_line(broken["text"], "hello_bridge", "serialized its result with pickle, not json")
    assert "the flow serialized" in line and "task greet-" in line
    assert 'result_serializer="json"' in line
    assert failed(broken["doc"], "hello_bridge", "results")


def test_task_names_that_do_not_line_up(broken: dict[str, Any]) -> None:
    proc = broken["renamed"]
    assert proc.returncode == 7
    line = fail_line(proc, "hello_bridge", "task names do not line up", "greet", "greeting")
    assert 'task_map = { <airflow task id> = "<prefect task name>" }' in line
    assert "ok   hello_bridge: its last completed run" in proc.stdout  # JSON results: this port is fine


def test_an_unwritable_shadow_target(broken: dict[str, Any]) -> None:
    line = fail_line(
        broken["text"], "etl_orders", "shadow target 'shadow_warehouse' is not writable", "permission denied"
    )
    assert f"postgresql://{RO_ROLE}:***@" in line
    assert "grant" in line and "CREATE" in line
    assert failed(broken["doc"], "etl_orders", "shadow_target")


def test_a_table_without_a_key(broken: dict[str, Any]) -> None:
    line = fail_line(
        broken["text"], "full_migration_weekly", f"{KEYLESS} (no key declared", "has no primary key"
    )
    assert "fix: declare key = [" in line and "exclude it with a reason" in line
    assert failed(broken["doc"], "full_migration_weekly", "table_keys")


def test_an_unknown_dag_id_is_bad_usage(env: dict[str, str]) -> None:
    proc = bridge(env, "etl_order")
    assert proc.returncode == 2
    assert proc.stdout == "" and proc.stderr.count("\n") == 1 and "Did you mean: etl_orders" in proc.stderr
