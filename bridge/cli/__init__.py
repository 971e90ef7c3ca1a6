"""The `bridge` command: a thin click layer over the library. Heavy imports happen inside commands."""

from __future__ import annotations

import click

from bridge.cli.dev import dev
from bridge.cli.metrics import metrics
from bridge.cli.seed import seed
from bridge.cli.serve import serve
from bridge.cli.watch import watch
from bridge.console.click_kit import JsonAwareGroup, backend_options, handle_errors
from bridge.console.click_kit import options as _options


@click.group(cls=JsonAwareGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Drive Airflow 3 and Prefect 3 through one interface; shadow-run and compare them.

    Exit codes: 0 ok, 1 run failed, 2 bad usage or input (a paused DAG, a conf the DAG refuses), 3 a
    backend unreachable, refusing us or unable to start a run, 4 shadow mismatch (--fail-on-mismatch),
    5 calibration refused, 6 a --wait timed out (the run goes on), 7 `bridge check` found a condition a
    shadow needs that does not hold, 8 a cutover gate is unmet, 130 interrupted. With --json, a failure
    is a JSON object on stdout too: {"error", "exit_code", "kind", "run"} (docs/json-schema.json)."""


@main.command("list")
@backend_options
@handle_errors
def list_cmd(backend: str, url: str | None, username: str | None, as_json: bool) -> None:
    """Every workflow either orchestrator knows: stage, schedule, paused, last run, known by."""
    from bridge import console

    console.list_workflows(_options(backend=backend, url=url, username=username, as_json=as_json))


@main.command("trigger")
@click.argument("dag_id")
@click.option("--conf", help="JSON object: the DAG run conf / flow parameters.")
@click.option("--wait", is_flag=True, help="Wait, then print the final state and outputs.")
@click.option("--timeout", type=float, default=3600.0, show_default=True, help="Seconds --wait waits.")
@click.option("--shadow", is_flag=True, help="Run on both at once (Airflow authoritative) and compare.")
@click.option("--fail-on-mismatch", is_flag=True, help="With --shadow: exit 4 on a mismatch.")
@click.option(
    "--unpause", is_flag=True, help="Unpause a paused DAG (and say so) before triggering; else it is refused."
)
@click.option(
    "--at",
    "at_text",
    metavar="INSTANT",
    help="With --shadow: run both sides as if their schedulers fired at INSTANT, an ISO-8601 time "
    "(2024-12-31T08:30:00Z; without an offset it means UTC): Airflow gets it as the logical date, "
    "Prefect a flow run scheduled at it; each derives its business date (not in --conf).",
)
@backend_options
@handle_errors
def trigger_cmd(
    dag_id: str,
    conf: str | None,
    wait: bool,
    timeout: float,
    shadow: bool,
    fail_on_mismatch: bool,
    unpause: bool,
    at_text: str | None,
    backend: str,
    url: str | None,
    username: str | None,
    as_json: bool,
) -> None:
    """Trigger DAG_ID on the orchestrator its stage names (or --backend)."""
    from bridge import console

    at = None
    if at_text is not None:
        from bridge.replay import parse_instant

        at = parse_instant(at_text, "--at")
    opts = _options(
        backend=backend,
        url=url,
        username=username,
        as_json=as_json,
        wait=wait,
        timeout=timeout,
        shadow=shadow,
        fail_on_mismatch=fail_on_mismatch,
        at=at,
        unpause=unpause,
    )
    if at is not None:
        from bridge.console.replay import trigger_at

        trigger_at(dag_id, conf, opts)
        return
    console.trigger(dag_id, conf, opts)


@main.command("shadow-replay")
@click.argument("dag_id")
@click.option(
    "--from",
    "start",
    required=True,
    metavar="START",
    help="First instant, ISO-8601 (2024-12-25T00:00:00Z; without an offset it means UTC), inclusive.",
)
@click.option("--to", "end", required=True, metavar="END", help="Last instant, likewise, inclusive.")
@click.option("--conf", help="JSON object for every instant, without business_date.")
@click.option(
    "--timeout",
    type=float,
    default=3600.0,
    show_default=True,
    help="Seconds each instant's primary may take.",
)
@click.option("--fail-on-mismatch", is_flag=True, help="Exit 4 if any instant is a mismatch.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def shadow_replay_cmd(
    dag_id: str,
    start: str,
    end: str,
    conf: str | None,
    timeout: float,
    fail_on_mismatch: bool,
    as_json: bool,
) -> None:
    """Shadow-run DAG_ID at each instant its Airflow schedule fired from START to END, as if both
    schedulers fired then (no business_date passed: each side derives it); one comparison each, recorded.
    At most 168 instants (a week of an hourly schedule) per replay."""
    from bridge.console.replay import shadow_replay

    opts = _options(timeout=timeout, fail_on_mismatch=fail_on_mismatch, as_json=as_json)
    shadow_replay(dag_id, start, end, conf, opts)


@main.command("calibrate")
@click.argument("dag_id")
@click.option(
    "--runs", default=3, show_default=True, type=int, help="Primary runs to compare with each other."
)
@click.option("--conf", help="JSON object for every run.")
@click.option("--timeout", type=float, default=3600.0, show_default=True)
@handle_errors
def calibrate_cmd(dag_id: str, runs: int, conf: str | None, timeout: float) -> None:
    """Run DAG_ID's primary against itself; what varies is recorded as noise for later verdicts."""
    from bridge import console

    console.calibrate(dag_id, conf, runs, _options(timeout=timeout))


@main.command("report")
@click.argument("dag_id", required=False)
@click.option("--format", "fmt", type=click.Choice(["json", "md", "html"]), default="md", show_default=True)
@click.option("-o", "--output", help="Write to this file instead of standard output.")
@handle_errors
def report_cmd(dag_id: str | None, fmt: str, output: str | None) -> None:
    """The shadow history: verdict streaks, latest diffs, durations side by side, links to both runs."""
    from bridge import console

    console.report(dag_id, fmt, output, _options())


@main.command("gates")
@click.argument("dag_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (an Argo/Flagger metric).")
@handle_errors
def gates_cmd(dag_id: str, as_json: bool) -> None:
    """Each cutover gate of DAG_ID, held or not, with its evidence; acts on nothing. Exit 8 if one is
    unmet. Thresholds: [workflows.DAG_ID.cutover] in bridge.toml."""
    from bridge import console

    console.gates(dag_id, _options(as_json=as_json))


def _move_command(verb: str, help_text: str, forcible: bool = False) -> None:
    """``bridge promote|cutover|retire|rollback``: one command each, one body."""

    @main.command(verb, help=help_text)
    @click.argument("dag_id")
    @click.option("--actor", help="Who does it, for the audit (default: the OS user).")
    @click.option("--reason", default="", help="Why, for the audit.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @handle_errors
    def command(dag_id: str, actor: str | None, reason: str, as_json: bool, **kw: bool) -> None:
        from bridge import console

        console.move(verb, dag_id, _options(as_json=as_json), actor=actor, reason=reason, **kw)

    if forcible:
        click.option("--force", is_flag=True, help="Past unmet gates; needs --reason; audited as forced.")(
            command
        )


_move_command(
    "promote",
    "airflow -> shadow: DAG_ID's Prefect schedule resumes, writing to the shadow target; Airflow stays primary.",
)
_move_command(
    "cutover",
    "shadow -> prefect, only when every gate holds (`bridge gates`): Airflow moves to the shadow target (a "
    "reverse shadow), then Prefect onto the primary; exit 8 if a gate is unmet.",
    forcible=True,
)
_move_command("retire", "prefect -> retired: Airflow's DAG is paused; Prefect stays primary.")
_move_command(
    "rollback",
    "Back to airflow from any stage: Airflow resumed on the primary first (works with Prefect down), then "
    "Prefect paused (reported pending if it cannot be reached: rerun to finish).",
)


@main.command("stages")
@click.argument("workflows", nargs=-1)
@click.option(
    "--history", is_flag=True, help="Every recorded change too: from, to, when, who, why, evidence."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def stages_cmd(workflows: tuple[str, ...], history: bool, as_json: bool) -> None:
    """Each workflow's stage and where that truth lives: the history store once a change is recorded
    (it wins over bridge.toml), else its bridge.toml entry."""
    from bridge import console

    console.stages(workflows, history, _options(as_json=as_json))


@main.command("status")
@click.argument("targets", nargs=-1, metavar="[RUN | WORKFLOW...]")
@click.option("--wait", is_flag=True, help="Wait until the run is final.")
@click.option("--timeout", type=float, default=3600.0, show_default=True)
@backend_options
@handle_errors
def status_cmd(
    targets: tuple[str, ...],
    wait: bool,
    timeout: float,
    backend: str,
    url: str | None,
    username: str | None,
    as_json: bool,
) -> None:
    """Show RUN (airflow:DAG_ID/RUN_ID or prefect:FLOW_RUN_ID): state, task values, result, link. Or, for
    each WORKFLOW (all when none is named): stage and since when, verdict streak and its origins, the last
    verdict, where its schedulers disagree with its stage, unmet gates, and the next command."""
    from bridge import console

    opts = _options(backend=backend, url=url, username=username, as_json=as_json, wait=wait, timeout=timeout)
    if len(targets) == 1 and targets[0].startswith(("airflow:", "prefect:")):
        console.status(targets[0], opts)
    else:
        console.workflow_status(targets, opts)


def _pause_command(name: str, paused: bool, help_text: str) -> None:
    """``bridge pause`` and ``bridge resume``: one command each, one body."""

    @main.command(name, help=help_text)
    @click.argument("dag_id")
    @click.option("--backend", type=click.Choice(["airflow", "prefect"]), required=True)
    @handle_errors
    def command(dag_id: str, backend: str) -> None:
        from bridge import console

        console.set_paused(dag_id, backend, paused, _options(backend=backend))


_pause_command("pause", True, "Stop scheduling DAG_ID on one orchestrator (runs already going finish).")
_pause_command("resume", False, "Schedule DAG_ID again on one orchestrator.")


@main.command("parity")
@click.argument("dag_id")
@click.option(
    "-n",
    "count",
    default=5,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="How many fire times to compare.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def parity_cmd(dag_id: str, count: int, as_json: bool) -> None:
    """Compare DAG_ID's next fire times on Airflow and on its Prefect deployment, in UTC."""
    from bridge import console

    console.parity(dag_id, count, _options(as_json=as_json))


@main.command("check")
@click.argument("dag_ids", nargs=-1, metavar="[DAG_ID]...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: every check, and the exit code.")
@handle_errors
def check_cmd(dag_ids: tuple[str, ...], as_json: bool) -> None:
    """Check every condition a shadow run needs, for each catalogued workflow (or DAG_ID...), against the
    live servers: the DAG exists and takes a `target` param whose default is `primary_target`; the
    deployment exists, takes `target` and persists JSON results the bridge can read; task names line up
    (or task_map maps them); the shadow target is writable; declared tables have keys. One line per check
    (ok, FAIL with its fix, warn: not known until the deployment completed a run). Nothing is triggered;
    the write probe is rolled back. Exit 7 if any check failed (the command ran, the catalog is not
    ready: not exit 2, which means the command's own input was wrong), 2 an unknown DAG_ID or a bad
    bridge.toml, 3 a backend unreachable."""
    from bridge.console.check import check

    check(dag_ids, _options(as_json=as_json))


@main.command("demo")
@click.option(
    "--i-own-this-database",
    "i_own_this_database",
    is_flag=True,
    help="Reseed the source and reset the demo targets even where the bridge did not create them.",
)
@handle_errors
def demo_cmd(i_own_this_database: bool) -> None:
    """Show what each orchestrator knows, then reseed the source (BRIDGE_SOURCE_URL), reset the demo
    targets (BRIDGE_WAREHOUSE_URL), shadow-run every workflow and write the report. Drops tables and
    schemas: only in databases the bridge created (else refused, exit 2)."""
    from bridge import console

    console.demo(_options(), i_own_this_database=i_own_this_database)


main.add_command(dev)
main.add_command(seed)
main.add_command(watch)
main.add_command(metrics)
main.add_command(serve)
