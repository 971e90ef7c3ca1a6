"""`bridge watch`: shadows of the scheduled runs, as a long-running service or one cycle (--once)."""

from __future__ import annotations

import click

from bridge.console.click_kit import handle_errors

_SECONDS = click.FloatRange(min=0)


@click.command("watch")
@click.option(
    "--once", is_flag=True, help="One cycle, then exit (for a cron line); its error exits non-zero."
)
@click.option(
    "--grace",
    type=_SECONDS,
    default=300.0,
    show_default=True,
    help="Seconds after an instant a run of it may still appear on the other side; then `missing`.",
)
@click.option(
    "--settle",
    type=_SECONDS,
    default=120.0,
    show_default=True,
    help="Seconds after a workflow becomes watched (its stage change) before its instants count.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds between cycles.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per cycle (JSON lines).")
@handle_errors
def watch(once: bool, grace: float, settle: float, interval: float, as_json: bool) -> None:
    """Pair the runs both schedulers made for one instant, for every workflow in stage shadow (or
    prefect: Airflow as a reverse shadow), compare each pair and record it (origin scheduled); a run
    with no counterpart after --grace is recorded as verdict missing. The cursor lives in the history
    store: a restarted watcher neither loses a pair nor compares one twice."""
    from bridge import console

    console.watch(console.Options(as_json=as_json), once=once, grace=grace, settle=settle, interval=interval)
