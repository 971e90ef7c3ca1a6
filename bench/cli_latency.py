"""How much the bridge costs at the command line: trigger_script.py against a bare requests script.

    make up && .venv/bin/python bench/cli_latency.py [--runs 15]

Both sides make the same REST calls against the running local stack; each command is run --runs times
as a fresh process (the way a person or cron runs it) and the medians are compared. Goal: ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = shutil.which("python3") or sys.executable

BARE = """
import sys, requests
af, pf, user, pw, mode = sys.argv[1:6]
tok = requests.post(af + "/auth/token", json={"username": user, "password": pw}).json()["access_token"]
s = requests.Session(); s.headers["Authorization"] = "Bearer " + tok
if mode == "list":
    dags = s.get(af + "/api/v2/dags", params={"limit": 100, "offset": 0}).json()
    runs = s.get(af + "/api/v2/dags/~/dagRuns", params={"order_by": "-run_after", "limit": 100}).json()
    deps = requests.post(pf + "/deployments/filter", json={"limit": 200, "offset": 0}).json()
    flows = requests.post(pf + "/flows/filter", json={"limit": 200, "offset": 0}).json()
    fr = requests.post(pf + "/flow_runs/filter", json={"deployments": {"id": {"any_": [d["id"] for d in deps]}},
                       "sort": "START_TIME_DESC", "limit": 200}).json()
    for d in dags["dags"]:
        print(d["dag_id"])
else:
    s.get(af + "/api/v2/dags/" + mode).raise_for_status()
    r = s.post(af + "/api/v2/dags/" + mode + "/dagRuns", json={"dag_run_id": None, "logical_date": None, "conf": {}})
    r.raise_for_status(); print(r.json()["dag_run_id"])
"""


def _once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(argv[:3])} failed: {proc.stderr.strip().splitlines()[-1:]}")
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--dag-id", default="hello_bridge")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from bridge import config

    cat = config.load()
    env = dict(os.environ)
    password = env.get("BRIDGE_AIRFLOW_PASSWORD", "admin")
    import requests

    try:
        requests.get(f"{cat.airflow.url}/api/v2/monitor/health", timeout=5)
        requests.get(f"{cat.prefect.url}/health", timeout=5)
    except requests.RequestException:
        sys.exit("bench: the local stack is not running: start it with `make up`")
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(BARE)
    bare = [PY, fh.name, cat.airflow.url, cat.prefect.url, cat.airflow.username, password]
    ours = [PY, "trigger_script.py"]
    env["BRIDGE_AIRFLOW_PASSWORD"] = password
    rows = [
        ("--list", *paired([*ours, "--list"], [*bare, "list"], env, args.runs)),
        (
            f"--dag-id {args.dag_id}",
            *paired([*ours, "--dag-id", args.dag_id], [*bare, args.dag_id], env, args.runs),
        ),
    ]
    help_s = timed([*ours, "--help"], env, args.runs)
    bridge_help = timed([str(REPO / ".venv" / "bin" / "bridge"), "--help"], env, args.runs)
    print(f"{'command':<24} {'trigger_script':>14} {'bare requests':>14} {'ratio':>7}")
    for name, mine, base in rows:
        print(f"{name:<24} {mine * 1000:>11.0f} ms {base * 1000:>11.0f} ms {mine / base:>6.2f}x")
    print(f"{'trigger_script --help':<24} {help_s * 1000:>11.0f} ms")
    print(f"{'bridge --help':<24} {bridge_help * 1000:>11.0f} ms")
    worst = max(mine / base for _, mine, base in rows)
    print(
        f"goal <= 1.30x: {'met' if worst <= 1.3 else 'NOT met'} (worst {worst:.2f}x, median of {args.runs} runs)"
    )
    os.unlink(fh.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
