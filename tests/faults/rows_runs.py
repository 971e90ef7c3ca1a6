"""Rows on runs: a side killed under a shadow or a wait, an expiring token, a duplicate trigger, an
unwritable reports folder, a locked history store, two cutovers at once. Items are runs or commands."""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import time
from collections.abc import Callable

from tests.faults import procs
from tests.faults.procs import BRIDGE, PYTHON, TRIGGER_SCRIPT, Cli
from tests.faults.stack import Private
from tests.faults.table import Seen, tally
from tests.helpers import wait_for

Say = Callable[[str], None]
HELLO = "hello_bridge"


def _history(p: Private) -> list[tuple[int, str]]:
    db = p.settings.home / "history.db"
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute("SELECT id, verdict FROM comparisons ORDER BY id").fetchall()


def _airflow_state(p: Private, run: str) -> str:
    from bridge.backends.base import RunRef

    dag_id, run_id = run.removeprefix("airflow:").split("/", 1)
    ref = RunRef("airflow", dag_id, run_id, run_id, "")
    return str(procs.airflow(p).get_run(ref).state.value)


def prefect_killed_mid_shadow(p: Private, say: Say) -> Seen:
    cli = Cli([BRIDGE, "trigger", HELLO, "--shadow", "--json", "--conf", '{"sleep_s": 30}'], p.env())
    cli.wait_line(r"prefect: running", 180)  # its worker picks it up after Airflow starts
    procs.kill_service(p, "prefect-server")
    rc = cli.finish(300)
    doc = cli.json()
    primary = doc["primary"]["run"]
    state = _airflow_state(p, primary)
    procs.restart(p, say)
    held = rc == 0 and doc["verdict"] == "shadow_failed" and state == "success" and doc["exit_code"] == 0
    return Seen(
        f"exit {rc}, verdict {doc['verdict']}, airflow run {state}; prefect restarted",
        held,
        tally([primary], [primary] if state == "success" else []),
    )


def airflow_killed_mid_wait(p: Private, say: Say) -> Seen:
    cli = Cli(
        # Longer than the api-server's restart (~50 s): a task that ends while it is down fails (Airflow 3
        # tasks report through its execution API), which is Airflow's, not the bridge's.
        [*TRIGGER_SCRIPT, "--dag-id", HELLO, "--wait", "--conf", '{"sleep_s": 90}'],
        p.env(),
    )
    run = cli.wait_line(r"run (airflow:\S+)", 60).group(1)
    cli.wait_line(r": running", 60)
    dag_id, run_id = run.removeprefix("airflow:").split("/", 1)
    tis = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
    airflow = procs.airflow(p)
    wait_for(
        lambda: [t["state"] for t in airflow.client.get(tis)["task_instances"]] == ["running"],
        60,
        "greet to run",
    )
    time.sleep(8)  # into its sleep: past its start, which reads a Variable through the api-server
    procs.kill_service(p, "airflow-api-server")
    rc = cli.finish(180)
    last = cli.err[-1] if cli.err else ""
    procs.restart(p, say)
    after = procs.run([BRIDGE, "status", run, "--wait", "--timeout", "240"], p.env(), 300)
    state = after.out[0].split(": ")[-1].split()[0] if after.out else "?"
    held = rc == 3 and run in last and "Traceback" not in "\n".join(cli.err) and after.rc == 0  # type: ignore[attr-defined]
    return Seen(
        f"exit {rc}, last line {'names' if run in last else 'does NOT name'} the run; after restart "
        f"`bridge status --wait`: {state} (exit {after.rc})",  # type: ignore[attr-defined]
        held,
        tally([run], [run] if state == "success" else []),
    )


def scheduler_killed_mid_run(p: Private, say: Say) -> Seen:
    airflow = procs.airflow(p)
    dag = "faults_two_steps"
    corr = f"faults_{secrets.token_hex(4)}"
    ref = airflow.trigger(dag, {"sleep_s": 20}, corr)

    def tries() -> dict[str, tuple[str, int]]:
        body = airflow.client.get(f"/dags/{dag}/dagRuns/{corr}/taskInstances")
        return {t["task_id"]: (t["state"], t["try_number"]) for t in body["task_instances"]}

    wait_for(lambda: tries().get("second", ("", 0))[0] == "running", 120, "the second step to run")
    assert tries()["first"][0] == "success"
    procs.kill_main(p, "airflow-scheduler")
    time.sleep(3)
    procs.restart(p, say)
    final = airflow.wait(ref, 240)
    seen = tries()
    runs_of_first = seen["first"][1]
    held = final.state.value == "success" and runs_of_first == 1
    return Seen(
        f"run {final.state.value} after restart; first step ran {runs_of_first}x, second {seen['second'][1]}x",
        held,
        tally(
            ["first", "second"],
            ["first"] * runs_of_first + (["second"] if seen["second"][0] == "success" else []),
        ),
    )


def token_expires_mid_wait(p: Private, say: Say) -> Seen:
    import requests

    s = p.settings
    token = requests.post(
        f"{s.airflow_url}/auth/token",
        json={"username": s.airflow_user, "password": s.airflow_password},
        timeout=30,
    ).json()["access_token"]
    cli = procs.run(
        [BRIDGE, "trigger", HELLO, "--wait", "--backend", "airflow", "--conf", '{"sleep_s": 25}'],
        p.env(),
        240,
    )
    expired = requests.get(
        f"{s.airflow_url}/api/v2/dags", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).status_code
    ok = cli.rc == 0 and any("success" in line for line in cli.out)  # type: ignore[attr-defined]
    runs = [line.split("run ")[-1].split()[0] for line in cli.err if "triggered" in line]
    return Seen(
        f"a token of the wait's start answers {expired} after it; the wait: exit {cli.rc}"  # type: ignore[attr-defined]
        f" ({cli.out[0] if cli.out else cli.tail()})",
        ok and expired == 401,
        tally(runs[:1] or ["run"], runs[:1] if ok else []),
    )


def duplicate_trigger(p: Private, say: Say) -> Seen:
    from bridge.backends.prefect import CORRELATION_TAG

    airflow, prefect = procs.airflow(p), procs.prefect(p)
    corr = f"faults_dup_{secrets.token_hex(4)}"
    deployment = "hello-bridge/hello_bridge"
    a1, a2 = (airflow.trigger(HELLO, {"name": "dup"}, corr) for _ in range(2))
    f1, f2 = (prefect.trigger(deployment, {"name": "dup"}, corr) for _ in range(2))
    on_airflow = airflow.client.get(f"/dags/{HELLO}/dagRuns", params={"run_id_pattern": corr})["dag_runs"]
    on_prefect = prefect.client.post(
        "/flow_runs/filter", json={"flow_runs": {"tags": {"all_": [f"{CORRELATION_TAG}{corr}"]}}}
    )
    seen = [f"airflow:{r['dag_run_id']}" for r in on_airflow] + [
        f"prefect:{r['idempotency_key']}" for r in on_prefect
    ]
    same = a1.run_id == a2.run_id and f1.run_id == f2.run_id
    return Seen(
        f"4 triggers (2 per side) -> {len(on_airflow)} airflow run, {len(on_prefect)} prefect run; "
        f"repeats {'returned the same run' if same else 'returned OTHER runs'}",
        same and len(on_airflow) == 1 and len(on_prefect) == 1,
        tally([f"airflow:{corr}", f"prefect:{corr}"], seen),
    )


def reports_unwritable(p: Private, say: Say) -> Seen:
    reports = p.settings.home / "reports"
    aside = p.settings.home / "reports.faults-aside"
    if reports.exists():
        reports.rename(aside)
    reports.write_text("a file where the reports folder should be\n")
    before = _history(p)
    try:
        cli = procs.run([BRIDGE, "trigger", HELLO, "--shadow"], p.env(), 300)
    finally:
        reports.unlink()
        if aside.exists():
            aside.rename(reports)
    after = _history(p)
    verdict = next((line for line in cli.out if line.startswith(f"shadow {HELLO}: ")), "")
    warnings = [line for line in cli.err if line.startswith("warning: report not written")]
    stored = after[len(before) :]
    held = (
        cli.rc == 0
        and verdict != ""
        and len(warnings) == 1
        and len(stored) == 1
        and "Traceback" not in "\n".join(cli.err)
    )  # type: ignore[attr-defined]
    return Seen(
        f"exit {cli.rc}, verdict line {'printed' if verdict else 'MISSING'}, {len(warnings)} warning line, "  # type: ignore[attr-defined]
        f"{len(stored)} verdict stored",
        held,
        tally(["shadow"], ["shadow"] * len(stored)),
    )


_LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def store_locked(p: Private, say: Say) -> Seen:
    db = p.settings.home / "history.db"
    before = _history(p)
    cli = Cli([BRIDGE, "trigger", HELLO, "--shadow", "--conf", '{"sleep_s": 3}'], p.env())
    cli.wait_line(r"prefect: running", 180)  # both end within seconds: then the verdict is recorded
    locker = subprocess.Popen([PYTHON, "-c", _LOCKER, str(db), "15"], stdout=subprocess.PIPE, text=True)
    assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
    rc = cli.finish(300)
    locker.wait(60)
    locker.stdout.close()
    after = _history(p)
    with sqlite3.connect(db) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    stored = after[len(before) :]
    errs = "\n".join(cli.err)
    stored_ok = rc == 0 and len(stored) == 1  # the store waits out the lock (BUSY_TIMEOUT_S): nothing lost
    held = integrity == "ok" and "Traceback" not in errs and stored_ok
    return Seen(
        f"locked 15 s as both sides ended; exit {rc}: "
        f"{'verdict stored' if stored_ok else (cli.err[-1] if cli.err else '?')[:220]}; "
        f"integrity_check {integrity}",
        held,
        tally(["shadow"], ["shadow"] * len(stored)),
    )


def two_cutovers_at_once(p: Private, say: Say) -> Seen:
    env = p.env()
    promote = procs.run([BRIDGE, "promote", HELLO, "--reason", "faults: two cutovers"], env, 120)
    assert promote.rc == 0, promote.tail()  # type: ignore[attr-defined]
    argv = [BRIDGE, "cutover", HELLO, "--force", "--reason", "faults: who wins"]
    racing = [Cli(argv, env), Cli(argv, env)]
    codes = sorted(c.finish(180) for c in racing)
    refusal = next((c.err[-1] for c in racing if c.proc.returncode == 2 and c.err), "")
    stages = procs.run([BRIDGE, "stages", HELLO, "--history", "--json"], env, 60)
    doc = json.loads("\n".join(stages.out))
    procs.run([BRIDGE, "rollback", HELLO, "--reason", "faults: back to airflow"], env, 120)
    text = json.dumps(doc)
    cutovers = text.count('"to": "prefect"')
    return Seen(
        f"exit codes {codes}; the loser: {refusal[:200]}; cutovers in the ledger: {cutovers}",
        codes == [0, 2] and cutovers == 1,
        tally(["cutover"], ["cutover"] * cutovers),
    )


ROWS: list[tuple[str, str, str, Callable[[Private, Say], Seen]]] = [
    (
        "reports",
        "reports folder unwritable",
        "exit 0, verdict line, one warning, verdict stored",
        reports_unwritable,
    ),
    ("duplicate", "same correlation id twice", "one run per side, repeats return it", duplicate_trigger),
    ("token", "JWT expires mid-wait", "renewed on 401, exit 0", token_expires_mid_wait),
    (
        "store-lock",
        "history store locked (BEGIN EXCLUSIVE)",
        "waits out the lock, then stores; intact",
        store_locked,
    ),
    (
        "prefect-kill",
        "Prefect server killed mid-shadow",
        "shadow_failed; Airflow run and exit 0 untouched",
        prefect_killed_mid_shadow,
    ),
    (
        "airflow-kill",
        "Airflow api-server killed mid-wait",
        "exit 3 naming the run; run goes on, read after restart",
        airflow_killed_mid_wait,
    ),
    (
        "scheduler-kill",
        "scheduler killed mid-run",
        "run resumes after restart; finished step not rerun",
        scheduler_killed_mid_run,
    ),
    (
        "cutover-race",
        "two cutovers at once",
        "one wins, the other exit 2; one cutover in ledger",
        two_cutovers_at_once,
    ),
]
