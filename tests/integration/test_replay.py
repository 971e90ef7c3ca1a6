"""--at and shadow-replay on the real stack: both sides triggered as if their schedulers had fired at a past
instant, no business_date passed, and each side derives the business date from that instant itself.

The instant is 2024-12-31T08:30Z: 05:30 in Sao Paulo, before that morning's 06:00 fire, the hours where a
timezone mistake shows (read in UTC, 08:30 is after a 06:00 fire and gives a date one day later)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bridge import config, shadow
from bridge.backends.base import RunState, parse_time
from bridge.compare import model
from bridge.operations import Backends, new_correlation_id
from bridge.replay import business_dates
from devkit.etl_seed import seed_etl
from tests.helpers import REPO, run_prefect_script, wait_for, wait_for_dags

DAG = "update_prices_daily"
AT = datetime(2024, 12, 31, 8, 30, tzinfo=UTC)
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def airflow_rule_date(instant: datetime) -> date:
    """Airflow's rule for a daily 06:00 Sao Paulo data-interval schedule, written out apart from the code
    under test: the interval that ended at the last 06:00 (local) at or before the instant began one day
    earlier; its local date is the business date."""
    local = instant.astimezone(SAO_PAULO)
    last_fire_day = local.date() if local.time() >= time(6) else local.date() - timedelta(days=1)
    return last_fire_day - timedelta(days=1)


def test_the_expected_dates_are_the_ones_worked_out_by_hand() -> None:
    assert airflow_rule_date(AT) == date(2024, 12, 29)  # last fire 2024-12-30 06:00 -03 = 09:00Z
    assert airflow_rule_date(datetime(2024, 12, 31, 9, tzinfo=UTC)) == date(2024, 12, 30)  # on the fire
    assert airflow_rule_date(datetime(2024, 12, 31, 8, 59, 59, tzinfo=UTC)) == date(2024, 12, 29)


@pytest.fixture(scope="module")
def backends(stack: Any, deployed: dict[str, str], data_urls: dict[str, str]) -> Backends:
    seed_etl(data_urls["BRIDGE_SOURCE_URL"], 300, 11)  # the products the price update reads
    env = {
        "BRIDGE_AIRFLOW_URL": stack.airflow_url,
        "BRIDGE_PREFECT_URL": stack.prefect_url,
        "BRIDGE_AIRFLOW_PASSWORD": stack.airflow_password,
        **dict(stack.extra_env),
    }
    b = Backends(config.load(env=env), env=env)
    wait_for_dags(b.get("airflow"), (DAG,))
    return b


@pytest.fixture
def sent(backends: Backends, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, Any]]]:
    """Every POST body the two backends send, as (backend, path, body)."""
    bodies: list[tuple[str, str, Any]] = []
    for name in ("airflow", "prefect"):
        client = backends.get(name).client  # type: ignore[attr-defined]
        real = client.post

        def post(path: str, json: Any = None, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            bodies.append((_name, path, json))
            return _real(path, json=json, **kw)

        monkeypatch.setattr(client, "post", post)
    yield bodies


def _target(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:6]}"


def _airflow_run(backends: Backends, run_id: str) -> dict[str, Any]:
    return dict(backends.get("airflow").client.get(f"/dags/{DAG}/dagRuns/{run_id}"))  # type: ignore[attr-defined]


def test_at_runs_both_sides_as_scheduled_and_each_derives_the_date(
    backends: Backends, sent: list[tuple[str, str, Any]]
) -> None:
    expected = str(airflow_rule_date(AT))
    result = shadow.run(backends, DAG, {"target": _target("rp_af")}, timeout=300, at=AT)
    assert result.primary.ok and result.shadow.ok, (result.primary.error, result.shadow.error)
    assert result.at == AT and result.verdict == model.MATCH, result.verdict_line
    assert (
        business_dates(result)
        == {"airflow": "2024-12-29", "prefect": "2024-12-29"}
        == {
            "airflow": expected,
            "prefect": expected,
        }
    )
    for side in result.sides():  # the first task derived it, before any work was done
        assert side.document is not None
        assert side.document["tasks"]["resolve_run"]["value"]["business_date"] == expected

    # Airflow: the instant went as the logical date (a second later if an earlier run holds it), with no
    # data interval and no business_date: the interval on the run is the one Airflow derived itself.
    af_bodies = [b for name, path, b in sent if name == "airflow" and path.endswith("/dagRuns")]
    assert af_bodies and af_bodies[0]["logical_date"] == AT.isoformat()
    for body in af_bodies:  # the instant's own logical date first, then (if taken) a free second after it
        assert "business_date" not in body["conf"]
        assert not {"data_interval_start", "data_interval_end"} & set(body)
    run = _airflow_run(backends, result.correlation_id)
    logical = parse_time(run["logical_date"])
    assert logical is not None and AT <= logical <= AT + timedelta(seconds=59)
    assert (run["data_interval_start"], run["data_interval_end"]) == (
        "2024-12-29T09:00:00Z",
        "2024-12-30T09:00:00Z",
    )
    assert "business_date" not in run["conf"] and run["run_type"] == "manual"

    # Prefect: a flow run created scheduled at the instant, parameters without business_date.
    (pf_body,) = [b for name, path, b in sent if name == "prefect" and path.endswith("/create_flow_run")]
    assert pf_body["state"] == {"type": "SCHEDULED", "state_details": {"scheduled_time": AT.isoformat()}}
    assert "business_date" not in pf_body["parameters"]
    assert result.shadow.ref is not None
    flow_run = backends.get("prefect").client.get(f"/flow_runs/{result.shadow.ref.run_id}")  # type: ignore[attr-defined]
    assert parse_time(flow_run["expected_start_time"]) == AT
    assert flow_run["parameters"].get("business_date") is None


def test_a_taken_logical_date_moves_a_second_and_keeps_airflows_interval(backends: Backends) -> None:
    """The scheduler's own run of the interval that starts at a fire time holds that fire time as its
    logical_date; replaying the instant must not fail, and the run must still see the interval (and the
    business date) Airflow gives that instant."""
    airflow = backends.get("airflow")

    def scheduled_run() -> dict[str, Any] | None:
        runs = airflow.client.get(f"/dags/{DAG}/dagRuns", params={"run_type": "scheduled", "limit": 5})  # type: ignore[attr-defined]
        return next(iter(runs["dag_runs"]), None)

    taken = parse_time(wait_for(scheduled_run, 120, f"a scheduled run of {DAG}")["logical_date"])
    assert taken is not None
    corr = new_correlation_id()
    ref = airflow.trigger(DAG, {"target": _target("rp_taken")}, corr, at=taken)
    assert airflow.trigger(DAG, {"target": "ignored"}, corr, at=taken) == ref  # a repeat is the same run
    run = _airflow_run(backends, ref.run_id)
    logical = parse_time(run["logical_date"])
    assert logical is not None and taken < logical <= taken + timedelta(seconds=59)
    assert parse_time(run["data_interval_end"]) == taken
    assert parse_time(run["data_interval_start"]) == taken - timedelta(days=1)  # Sao Paulo keeps no DST
    assert airflow.wait(ref, 300).state == RunState.SUCCESS
    header = airflow.observe(ref).tasks["resolve_run"].value
    assert header["business_date"] == str(airflow_rule_date(taken))


FLOW = """
from prefect import flow
from prefect.runtime import flow_run


@flow(name="replay-probe", persist_result=True, result_serializer="json")
def when() -> dict:
    return {"scheduled_start_time": flow_run.scheduled_start_time.isoformat()}
"""


def test_the_prefect_flow_reads_the_instant_as_its_scheduled_start_and_runs_at_once(
    backends: Backends,
    stack: Any,
    tmp_path: Path,
) -> None:
    (tmp_path / "probe.py").write_text(FLOW)
    run_prefect_script(
        stack.prefect_url,
        "from prefect import Flow\n"
        f"f = Flow.from_source(source={str(tmp_path)!r}, entrypoint='probe.py:when')\n"
        "f.deploy(name='replay_probe', work_pool_name='scheduler', build=False, push=False,"
        " print_next_steps=False)\n",
    )
    prefect = backends.get("prefect")
    ref = prefect.trigger("replay-probe/replay_probe", {}, new_correlation_id(), at=AT)
    assert prefect.wait(ref, 180).state == RunState.SUCCESS
    assert prefect.observe(ref).result == {"scheduled_start_time": AT.isoformat()}
    run = prefect.client.get(f"/flow_runs/{ref.run_id}")  # type: ignore[attr-defined]
    created, started = parse_time(run["created"]), parse_time(run["start_time"])
    assert created is not None and started is not None
    assert started - created < timedelta(seconds=60)  # due at once, though scheduled two years ago


def test_shadow_replay_gives_one_recorded_comparison_per_instant(
    deployed: dict[str, str], backends: Backends, tmp_path: Path
) -> None:
    env = {
        **deployed,
        "BRIDGE_HOME": str(tmp_path),
        "BRIDGE_STORE_URL": f"sqlite:///{tmp_path / 'history.db'}",
    }
    target = _target("rp_range")
    args = ["shadow-replay", DAG, "--from", "2024-12-29T09:00:00Z", "--to", "2024-12-30T09:00:00"]
    args += ["--conf", json.dumps({"target": target}), "--json", "--fail-on-mismatch", "--timeout", "300"]
    proc = subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    rows = report["instants"]
    assert [r["instant"] for r in rows] == ["2024-12-29T09:00:00Z", "2024-12-30T09:00:00Z"]
    assert [r["business_date"] for r in rows] == [
        {"airflow": "2024-12-28", "prefect": "2024-12-28"},
        {"airflow": "2024-12-29", "prefect": "2024-12-29"},
    ]
    assert [r["verdict"] for r in rows] == [model.MATCH, model.MATCH] and report["verdicts"] == {"match": 2}
    assert all(r["airflow_run"]["data_interval_end"] == r["instant"] for r in rows)
    assert all(r["at"] == r["instant"].replace("Z", "+00:00") and r["deployment"] for r in rows)
    assert report["schedule"] == {"cron": "0 6 * * *", "timezone": "America/Sao_Paulo"}
    assert "instant 1/2 2024-12-29T09:00:00Z" in proc.stderr and "instant 2/2" in proc.stderr

    from bridge.store import Store

    history = Store(env["BRIDGE_STORE_URL"]).history(DAG)
    assert sorted(h["correlation_id"] for h in history) == sorted(r["correlation_id"] for r in rows)
    assert all(h["conf"] == {"target": target} for h in history)
    assert [h["origin"] for h in history] == ["replay", "replay"] and all(
        r["origin"] == "replay" for r in rows
    )
