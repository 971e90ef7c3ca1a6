"""How much the bridge costs at the command line: trigger_script.py against a bare requests script.

    .venv/bin/bridge dev up && .venv/bin/python bench/cli_latency.py [--runs 15] [--size 300]

Both sides make the same REST calls against the running local stack; each command is run --runs times
as a fresh process (the way a person or cron runs it) and the medians are compared. Goal: ratio <= 1.3.

``--size N`` (default: 0 and 300): N = 0 is the stack as it is; N > 0 first registers N more DAGs (one
generator file in the stack's DAG folder, dags_legacy/_bench_generated_dags.py) and N more Prefect
deployments (one bench flow), with a few runs, then times ``--list`` at that size. All of it is removed
when the bench ends, also on Ctrl-C or a failure; a bench killed outright leaves it, and the next one
removes it first. Before timing, ``--list --json`` and the bare script must agree on every last run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

from generated_catalog import GEN_FILE, BenchError, Stack, cleanup, connect, generated

REPO = Path(__file__).resolve().parents[1]
PY = shutil.which("python3") or sys.executable

# The baseline: what a careful person writes with requests alone to get the same answer as --list.
BARE = """
import sys, requests
af, pf, user, pw, mode = sys.argv[1:6]
tok = requests.post(af + "/auth/token", json={"username": user, "password": pw}).json()["access_token"]
s = requests.Session(); s.headers["Authorization"] = "Bearer " + tok
p = requests.Session()
if mode == "list":
    dags, total = [], 1
    while len(dags) < total:
        body = s.get(af + "/api/v2/dags", params={"limit": 100, "offset": len(dags)}).json()
        if not body["dags"]:
            break
        dags += body["dags"]; total = body["total_entries"]
    last, left = {}, [d["dag_id"] for d in dags]
    while left:
        runs = s.post(af + "/api/v2/dags/~/dagRuns/list", json={"dag_ids": left, "order_by": "-run_after",
                      "page_offset": 0, "page_limit": 100}).json()["dag_runs"]
        for r in runs:
            last.setdefault(r["dag_id"], r["state"])
        left = [d for d in left if d not in last]
        if len(runs) < 100:
            break
    def every(path):
        items = []
        while True:
            batch = p.post(pf + path, json={"limit": 200, "offset": len(items)}).json()
            items += batch
            if len(batch) < 200:
                return items
    deps = every("/deployments/filter")
    flows = {f["id"]: f["name"] for f in every("/flows/filter")}
    flast, left = {}, [d["id"] for d in deps]
    while left:
        runs = p.post(pf + "/flow_runs/filter", json={"deployments": {"id": {"any_": left}},
                      "flow_runs": {"state": {"type": {"not_any_": ["SCHEDULED"]}}},
                      "sort": "START_TIME_DESC", "limit": 200}).json()
        for r in runs:
            flast.setdefault(r["deployment_id"], r["state_type"])
        left = [d for d in left if d not in flast]
        if len(runs) < 200:
            break
    for d in dags:
        print("airflow", d["dag_id"], "yes" if d["is_paused"] else "no", last.get(d["dag_id"]) or "-", sep="\\t")
    for d in deps:
        name = flows.get(d["flow_id"], "?") + "/" + d["name"]
        print("prefect", name, "yes" if d["paused"] else "no", flast.get(d["id"]) or "-", sep="\\t")
else:
    s.get(af + "/api/v2/dags/" + mode).raise_for_status()
    r = s.post(af + "/api/v2/dags/" + mode + "/dagRuns", json={"dag_run_id": None, "logical_date": None, "conf": {}})
    r.raise_for_status(); print(r.json()["dag_run_id"])
"""


# -- timing --------------------------------------------------------------------------------------
def _once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(argv[1:3])} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return elapsed


def paired(ours: list[str], bare: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Medians of ours and bare, run alternately so the machine's drift hits both alike."""
    a, b = [], []
    for _ in range(runs):
        a.append(_once(ours, env))
        b.append(_once(bare, env))
    return statistics.median(a), statistics.median(b)


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(_once(argv, env) for _ in range(runs))


# -- the same answer -----------------------------------------------------------------------------
def disagreements(ours: list[str], bare: list[str], env: dict[str, str]) -> list[str]:
    """Where ``--list --json`` and the bare script differ: DAGs listed, paused, last run states."""
    from bridge.backends import airflow, prefect
    from bridge.backends.base import RunState

    mine = json.loads(_output([*ours, "--list", "--json"], env))
    theirs: dict[tuple[str, str], tuple[bool, str | None]] = {}
    for line in _output([*bare, "list"], env).splitlines():
        side, name, paused, state = line.split("\t")
        states = airflow.STATES if side == "airflow" else prefect.STATES
        common = None if state == "-" else states.get(state, RunState.UNKNOWN).value
        theirs[(side, name)] = (paused == "yes", common)
    bare_dags = {name for side, name in theirs if side == "airflow"}
    our_dags = {row["id"] for row in mine if "airflow" in row["known_by"]}
    found = [f"DAGs only --list shows: {sorted(our_dags - bare_dags)[:5]}"] if our_dags - bare_dags else []
    found += [f"DAGs only bare shows: {sorted(bare_dags - our_dags)[:5]}"] if bare_dags - our_dags else []
    for row in mine:
        if row["stage"] == "prefect" and "prefect" in row["known_by"]:
            key = ("prefect", row["deployment"] or row["id"])
        elif "airflow" in row["known_by"]:
            key = ("airflow", row["id"])
        elif "prefect" in row["known_by"]:
            key = ("prefect", row["id"])
        else:
            continue  # catalog only
        if key in theirs and theirs[key] != (row["paused"], row["last_state"]):
            found.append(f"{key[1]}: --list {(row['paused'], row['last_state'])}, bare {theirs[key]}")
    return found


def _output(argv: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(argv[1:4])} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return proc.stdout


def check_same(ours: list[str], bare: list[str], env: dict[str, str]) -> None:
    """Both sides give the same answer (three tries: a run may change state between the two reads)."""
    for _ in range(3):
        found = disagreements(ours, bare, env)
        if not found:
            return
        time.sleep(3.0)
    raise BenchError(f"--list and the bare script disagree on {len(found)}: " + "; ".join(found[:5]))


# -- the bench -----------------------------------------------------------------------------------
Row = tuple[str, float, float]


def bench_size(
    stack: Stack, n: int, ours: list[str], bare: list[str], env: dict[str, str], args: Any
) -> list[Row]:
    dags, deps = stack.counts()
    label = f"--list ({dags} DAGs, {deps} deployments)"
    print(f"timing {label}, {args.runs} paired runs", flush=True)
    check_same(ours, bare, env)
    rows = [(label, *paired([*ours, "--list"], [*bare, "list"], env, args.runs))]
    if n == 0:
        trigger = ([*ours, "--dag-id", args.dag_id], [*bare, args.dag_id])
        print(f"timing --dag-id {args.dag_id}, {args.runs} paired runs", flush=True)
        rows.append((f"--dag-id {args.dag_id}", *paired(*trigger, env, args.runs)))
    return rows


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up the way Ctrl-C does


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--dag-id", default="hello_bridge")
    parser.add_argument(
        "--size",
        type=int,
        action="append",
        help="DAGs and deployments to add for a --list row (0: the stack as it is); repeatable; "
        "default: 0 and 300",
    )
    parser.add_argument(
        "--dag-folder", type=Path, default=REPO / "dags_legacy", help="the stack's DAG folder (dags_legacy/)"
    )
    args = parser.parse_args()
    sizes = args.size or [0, 300]
    sys.path.insert(0, str(REPO))
    from bridge import config

    cat = config.load()
    env = dict(os.environ)
    password = env.get("BRIDGE_AIRFLOW_PASSWORD", "admin")
    env["BRIDGE_AIRFLOW_PASSWORD"] = password
    signal.signal(signal.SIGTERM, _terminate)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(BARE)
    bare = [PY, fh.name, cat.airflow.url, cat.prefect.url, cat.airflow.username, password]
    ours = [PY, "trigger_script.py"]
    rows: list[Row] = []
    try:
        stack = connect(cat.airflow.url, cat.prefect.url, cat.airflow.username, password, args.dag_folder)
        if (args.dag_folder / GEN_FILE).exists() or stack.generated_dags(exclude_stale=False):
            print("a previous bench left its DAGs or deployments: removing them first")
        cleanup(stack)
        for n in sizes:
            if n:
                with generated(stack, n):
                    rows += bench_size(stack, n, ours, bare, env, args)
            else:
                rows += bench_size(stack, n, ours, bare, env, args)
        help_s = timed([*ours, "--help"], env, args.runs)
        bridge_help = timed([str(REPO / ".venv" / "bin" / "bridge"), "--help"], env, args.runs)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted (what it generated is removed)", file=sys.stderr)
        return 130
    finally:
        os.unlink(fh.name)
    width = max(24, *(len(name) for name, _, _ in rows))
    print(f"{'command':<{width}} {'trigger_script':>14} {'bare requests':>14} {'ratio':>7}")
    for name, mine, base in rows:
        print(f"{name:<{width}} {mine * 1000:>11.0f} ms {base * 1000:>11.0f} ms {mine / base:>6.2f}x")
    print(f"{'trigger_script --help':<{width}} {help_s * 1000:>11.0f} ms")
    print(f"{'bridge --help':<{width}} {bridge_help * 1000:>11.0f} ms")
    worst = max(mine / base for _, mine, base in rows)
    print(
        f"goal <= 1.30x: {'met' if worst <= 1.3 else 'NOT met'} (worst {worst:.2f}x, median of {args.runs} runs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
