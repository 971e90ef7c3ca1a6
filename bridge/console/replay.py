"""`bridge shadow-replay` and `bridge trigger --at`: shadow runs as if both schedulers had fired at past
instants, one comparison per instant, each recorded as it ends (origin ``replay``)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime
from typing import IO, Any

from bridge.console.common import Options, backends_for
from bridge.console.shadow import (
    ShadowProgress,
    report_after_run,
    result_json,
    result_lines,
    shadow_run,
    store_for,
)


def trigger_at(
    dag_id: str, conf_text: str | None, opts: Options, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr
) -> None:
    """`bridge trigger DAG_ID --at INSTANT`: one shadow run as if both schedulers fired at the instant."""
    from bridge import operations, replay
    from bridge.errors import UsageError

    assert opts.at is not None
    from bridge.console.common import check_options

    check_options(opts)
    conf = operations.parse_conf(conf_text)
    replay.refuse_business_date(conf)
    replay.refuse_future(opts.at)
    backends = backends_for(opts)
    stage = backends.catalog.entry(dag_id).stage
    if not (opts.shadow or (opts.backend == "auto" and stage == "shadow")):
        raise UsageError(
            f"--at runs both sides as if their schedulers fired at {replay.format_instant(opts.at)}: "
            "add --shadow"
        )
    shadow_run(backends, dag_id, conf, opts, out, err)


def shadow_replay(
    dag_id: str,
    start_text: str,
    end_text: str,
    conf_text: str | None,
    opts: Options,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
) -> None:
    """One shadow comparison per scheduled instant of DAG_ID from --from to --to, each recorded; a line
    per instant (the business date each side derived, the verdict); exit 1 if a primary failed, 4 on a
    mismatch with --fail-on-mismatch."""
    from bridge import operations, replay
    from bridge.console.common import check_options
    from bridge.errors import BridgeError, MismatchError, RunFailedError

    check_options(opts)
    start = replay.parse_instant(start_text, "--from")
    end = replay.parse_instant(end_text, "--to")
    conf = operations.parse_conf(conf_text)
    replay.refuse_business_date(conf, "a replay")
    backends = backends_for(opts)
    schedule = replay.airflow_schedule(backends, dag_id)
    _, found = replay.plan(backends, dag_id, start, end, schedule=schedule)
    err.write(
        f"replay {dag_id}: {len(found)} instant(s) of {schedule.describe()} (Airflow's schedule) from "
        f"{replay.format_instant(start)} to {replay.format_instant(end)}\n"
    )
    store = store_for(backends)
    rows: list[dict[str, Any]] = []

    def on_instant(i: int, n: int, instant: datetime) -> None:
        err.write(f"replay {dag_id}: instant {i}/{n} {replay.format_instant(instant)}\n")
        err.flush()

    def on_result(result: Any) -> None:  # recorded already (origin replay)
        row = instant_row(backends, result)
        rows.append(row)
        if not opts.as_json:
            details = result_lines(result, None, limit=5)[1:] if result.verdict != "match" else []
            out.write("".join(line + "\n" for line in [instant_line(row), *details]))
            out.flush()

    results = replay.replay(
        store,
        backends,
        dag_id,
        start,
        end,
        conf,
        timeout=opts.timeout,
        progress=ShadowProgress(err, dag_id),
        on_instant=on_instant,
        on_result=on_result,
        schedule=schedule,
    )
    from bridge import followup

    followup.after_comparisons(store, backends.catalog, [dag_id])  # gates turned red, metrics textfile
    report = report_after_run(store, backends.catalog, dag_id, err)
    counts = Counter(r.verdict for r in results)
    failed = [r for r in results if not r.primary.ok]
    mismatched = [r for r in results if r.verdict == "mismatch"]
    error: BridgeError | None = None
    if failed:
        error = RunFailedError(
            f"replay {dag_id}: the primary (airflow) failed at {len(failed)} of {len(results)} instant(s), "
            f"first {_at(failed[0])}"
        )
    elif opts.fail_on_mismatch and mismatched:
        error = MismatchError(
            f"replay {dag_id}: mismatch at {len(mismatched)} of {len(results)} instant(s), "
            f"first {_at(mismatched[0])}"
        )
    if opts.as_json:  # one object, with the exit code the error below gives
        json.dump(
            {
                "workflow": dag_id,
                "deployment": results[0].deployment if results else None,
                "schedule": {"cron": schedule.cron, "timezone": schedule.timezone},
                "from": replay.format_instant(start),
                "to": replay.format_instant(end),
                "instants": rows,
                "verdicts": dict(sorted(counts.items())),
                "report": str(report) if report else None,
                "exit_code": error.exit_code if error else 0,
            },
            out,
            indent=2,
            ensure_ascii=False,
        )
        out.write("\n")
    else:
        tally = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
        out.write(
            f"replayed {dag_id}: {len(results)} instant(s): {tally}; report: {report or 'not written'}\n"
        )
    if error is not None:
        error.printed = opts.as_json
        raise error


def _at(result: Any) -> str:
    from bridge.replay import format_instant

    return format_instant(result.at) if result.at else "?"


def instant_row(backends: Any, result: Any) -> dict[str, Any]:
    """One replayed instant: the instant, each side's business date, the Airflow run's logical date and
    the data interval Airflow derived, then the shadow run as `bridge trigger --shadow --json` shows it."""
    from bridge.replay import business_dates

    shown = result_json(result, None)
    shown.pop("report", None)
    return {
        "instant": _at(result),
        "business_date": business_dates(result),
        "airflow_run": airflow_dates(backends, result.primary),
        **shown,
    }


def airflow_dates(backends: Any, primary: Any) -> dict[str, Any]:
    """The Airflow run's logical_date and data interval, as Airflow derived them (best effort)."""
    from bridge.errors import BridgeError

    if primary.ref is None:
        return {}
    try:
        raw = backends.get("airflow").get_run(primary.ref).raw
    except BridgeError:
        return {}
    return {k: raw.get(k) for k in ("logical_date", "data_interval_start", "data_interval_end")}


def instant_line(row: dict[str, Any]) -> str:
    """``2024-12-30T09:00:00Z  business date airflow 2024-12-29, prefect 2024-12-29  match (...)``."""
    dates = row["business_date"]
    differ = "  (dates differ)" if dates.get("airflow") != dates.get("prefect") else ""
    af = row["airflow_run"]
    interval = ""
    if af.get("data_interval_start"):
        interval = f"  airflow interval {af['data_interval_start']}..{af['data_interval_end']}"
        if af.get("logical_date") and af["logical_date"] != row["instant"]:
            interval += f" (logical_date {af['logical_date']}: the instant's was taken)"
    return (
        f"{row['instant']}  business date airflow {dates.get('airflow') or '-'}, prefect "
        f"{dates.get('prefect') or '-'}{differ}  {row['verdict_line']}{interval}"
    )
