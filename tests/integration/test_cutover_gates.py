"""A cutover earned, not forced, on the real stack: update_prices_daily promoted; the cutover refused while
a gate is unmet (no comparisons; manual shadows only; no calibration; a calibration older than the
deployment's last change), each refusal naming its gate; then, with a streak of replayed matches over
three business dates and a fresh calibration, allowed (not forced, its evidence recorded). Thresholds
come from the test's own bridge.toml ([workflows.update_prices_daily.cutover]); rolled back at the end."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.etl_seed import seed_etl
from tests.helpers import REPO, conforms, run_module, wait_for_dags
from tests.zoo import Zoo

BRIDGE = str(REPO / ".venv" / "bin" / "bridge")
DAG = "update_prices_daily"
THRESHOLDS = (
    "\n[workflows.update_prices_daily.cutover]\nstreak = 3\nmin_scheduled = 3\nmin_business_dates = 3\n"
)


@pytest.fixture(scope="module")
def env(
    deployed: dict[str, str], data_urls: dict[str, str], stack: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    from bridge.backends.airflow import AirflowBackend

    seed_etl(data_urls["BRIDGE_SOURCE_URL"], 300, 11)  # the products the price update reads
    wait_for_dags(AirflowBackend(stack.airflow_url, stack.airflow_user, stack.airflow_password), [DAG])
    home = tmp_path_factory.mktemp("gates-home")
    catalog = home / "bridge.toml"
    catalog.write_text((REPO / "bridge.toml").read_text() + THRESHOLDS)
    env = {**deployed, "BRIDGE_HOME": str(home), "BRIDGE_CONFIG": str(catalog)}
    try:
        yield env
    finally:
        bridge(env, "rollback", DAG, "--reason", "test teardown")


def bridge(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([BRIDGE, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def unmet(env: dict[str, str]) -> dict[str, str]:
    """The unmet gates by name (with their detail), as `bridge gates --json` says; exit 8 iff any."""
    proc = bridge(env, "gates", DAG, "--json")
    doc = conforms(json.loads(proc.stdout), "gates")
    failing = {g["gate"]: g["detail"] for g in doc["gates"] if not g["ok"]}
    assert proc.returncode == (8 if failing else 0) and doc["ok"] is not failing
    return failing


def refused(env: dict[str, str], gate: str) -> None:
    proc = bridge(env, "cutover", DAG)
    assert proc.returncode == 8 and gate in proc.stderr, (proc.stdout, proc.stderr)


def test_a_cutover_is_refused_gate_by_gate_then_allowed(env: dict[str, str]) -> None:
    assert bridge(env, "promote", DAG, "--reason", "port ready").returncode == 0

    first = unmet(env)
    assert {"streak", "scheduled_evidence", "calibration"} <= set(first), first
    assert "0 comparison(s) recorded" in first["streak"]
    refused(env, "streak")

    manual = bridge(env, "trigger", DAG, "--shadow", "--json")
    assert manual.returncode == 0, manual.stderr
    assert json.loads(manual.stdout)["verdict"] == "match"
    after_manual = unmet(env)
    assert "1 comparison(s) recorded, 1 match" in after_manual["streak"]
    assert "0 scheduled/replayed match(es)" in after_manual["scheduled_evidence"]
    refused(env, "scheduled_evidence")

    # three schedule instants of the daily 06:00 Sao Paulo schedule: three business dates
    replay = bridge(
        env, "shadow-replay", DAG, "--from", "2024-12-27T12:00Z", "--to", "2024-12-30T12:00Z", "--json"
    )
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout)["verdicts"] == {"match": 3}
    assert set(unmet(env)) == {"calibration"}
    refused(env, "calibration")

    assert bridge(env, "calibrate", DAG, "--runs", "2").returncode == 0
    assert unmet(env) == {}

    # the deployment changes after the calibration: it no longer vouches for the port
    run_module("flows.deploy", {**env, "PREFECT_API_URL": env["BRIDGE_PREFECT_URL"]})
    stale = unmet(env)
    assert set(stale) == {"calibration"} and "older than the deployment's last change" in stale["calibration"]
    refused(env, "calibration")

    assert bridge(env, "calibrate", DAG, "--runs", "2").returncode == 0
    proc = bridge(env, "cutover", DAG, "--reason", "gates hold", "--json")
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    change = conforms(json.loads(proc.stdout), "move")["change"]
    assert change["to"] == "prefect" and change["forced"] is False and len(change["evidence"]) >= 3
    history = json.loads(bridge(env, "stages", DAG, "--history", "--json").stdout)["history"]
    assert [(c["from"], c["to"], c["forced"]) for c in history] == [
        ("airflow", "shadow", False),
        ("shadow", "prefect", False),
    ]


def test_the_other_gates_refuse_on_the_real_stack(env: dict[str, str], zoo: Zoo, tmp_path: Path) -> None:
    """no_failures: a hello_bridge shadow whose catalog maps the conf wrong (a mismatch in the window); deployment_ready and schedule_parity: the zoo's zoo-idle (a pool no worker polls, no Airflow
    DAG); ignore_reasons: a rule without a reason never gets that far (the catalog is refused, exit 2)."""
    # a port mapped wrong: the catalog gives Prefect's side a name Airflow's never gets
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(
        (REPO / "bridge.toml")
        .read_text()
        .replace(
            "params = { rename = {}, defaults = {}, drop = [] }",
            'params = { rename = {}, defaults = { name = "someone else" }, drop = [] }',
        )
    )
    shadow = bridge({**env, "BRIDGE_CONFIG": str(wrong)}, "trigger", "hello_bridge", "--shadow", "--json")
    assert shadow.returncode == 0, shadow.stderr
    mismatch = json.loads(shadow.stdout)
    assert mismatch["verdict"] == "mismatch", mismatch
    hello = unmet_of(env, "hello_bridge")
    assert f"#{mismatch['comparison_id']} mismatch" in hello["no_failures"]
    assert "schedule_parity" not in hello  # neither side schedules it: nothing to compare

    idle = unmet_of({**zoo.env, "BRIDGE_HOME": env["BRIDGE_HOME"]}, "zoo_idle")
    assert "no live worker polls prefect work pool 'zoo-idle'" in idle["deployment_ready"]
    assert "schedule parity not established" in idle["schedule_parity"]

    catalog = tmp_path / "bridge.toml"
    rule = '\n[[workflows.hello_bridge.shadow.ignore]]\npath = "result.token"\nreason = " "\n'
    catalog.write_text(
        (REPO / "bridge.toml")
        .read_text()
        .replace('shadow = { primary_target = "public", discover = false }  # writes no tables\n', "")
        + '\n[workflows.hello_bridge.shadow]\nprimary_target = "public"\ndiscover = false\n'
        + rule
    )
    proc = bridge({**env, "BRIDGE_CONFIG": str(catalog)}, "gates", "hello_bridge")
    assert proc.returncode == 2 and "every ignore rule needs a path and a written reason" in proc.stderr


def unmet_of(env: dict[str, str], dag_id: str) -> dict[str, str]:
    proc = bridge(env, "gates", dag_id, "--json")
    doc = conforms(json.loads(proc.stdout), "gates")
    assert proc.returncode == 8, (proc.stdout, proc.stderr)
    return {g["gate"]: g["detail"] for g in doc["gates"] if not g["ok"]}
