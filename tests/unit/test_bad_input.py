"""Issue 15: bad input, one example per point. The CLIs run as subprocesses (as a person runs them) against
closed local ports, so nothing here needs a server: each case is one line, a documented exit code, no
traceback, no secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, free_port

pytestmark = pytest.mark.unit

BRIDGE = str(REPO / ".venv" / "bin" / "bridge")
SECRET = "s3cr3t-Zq81xw"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Both backends on ports nothing listens on; a home of the test's own; the password a secret."""
    home = tmp_path_factory.mktemp("home")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "PREFECT_", "AIRFLOW__"))}
    return {
        **base,
        "BRIDGE_HOME": str(home),
        "BRIDGE_AIRFLOW_URL": f"http://127.0.0.1:{free_port()}",
        "BRIDGE_PREFECT_URL": f"http://127.0.0.1:{free_port()}/api",
        "BRIDGE_AIRFLOW_PASSWORD": SECRET,
        "BRIDGE_SOURCE_URL": f"mysql+pymysql://root@127.0.0.1:{free_port()}/bridge_nowhere",
    }


def sh(command: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``command`` through a shell (for `<&-`, `>&-`, `> /dev/full`), from the repository."""
    return subprocess.run(
        command,
        shell=True,
        executable="/bin/bash",
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


def trigger(*args: str) -> str:
    return " ".join([sys.executable, "trigger_script.py", *args])


def bridge(*args: str) -> str:
    return " ".join([BRIDGE, *args])


def one_line(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The process exited ``code`` with exactly one line on stderr, holding ``words``, no traceback and
    no secret anywhere."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# -- 2. the password never shows: abbreviated flags, an empty one, credentials inside URLs -------------
@pytest.mark.parametrize("spelling", [["--pass", SECRET], ["--passw", SECRET], [f"--passwo={SECRET}"]])
def test_an_abbreviated_password_flag_is_refused_without_showing_the_value(
    env: dict[str, str], spelling: list[str]
) -> None:
    proc = sh(trigger("--dag-id", "hello_bridge", *spelling), env)
    one_line(proc, 2, "spell it --password")


def test_an_empty_password_is_refused_not_replaced_by_the_dev_default(env: dict[str, str]) -> None:
    one_line(sh(trigger("--dag-id", "hello_bridge", "--password", "''"), env), 2, "--password is empty")
    one_line(sh(trigger("--dag-id", "hello_bridge", "--password="), env), 2, "--password is empty")


def test_the_hand_off_moves_every_password_spelling_into_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import trigger_script

    seen: dict[str, object] = {}

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        seen.update(argv=argv, env=env)

    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setattr(
        sys, "argv", ["trigger_script.py", "--password", "a1", "--wait", f"--password={SECRET}"]
    )
    trigger_script._handoff()
    assert not [a for a in seen["argv"] if "a1" in a or SECRET in a]  # type: ignore[attr-defined]
    assert seen["env"]["BRIDGE_AIRFLOW_PASSWORD"] == SECRET  # type: ignore[index]
    assert "--wait" in seen["argv"]  # type: ignore[operator]


@pytest.mark.parametrize("var", ["BRIDGE_AIRFLOW_URL", "BRIDGE_PREFECT_URL"])
def test_credentials_inside_a_url_are_masked_in_the_error_line(env: dict[str, str], var: str) -> None:
    url = env[var].replace("http://", f"http://admin:{SECRET}@")
    backend = "airflow" if "AIRFLOW" in var else "prefect"
    proc = sh(trigger("--dag-id", "hello_bridge", "--backend", backend), {**env, var: url})
    # Airflow's drops them (they would replace its JWT); Prefect's keeps them (a proxy's), masked
    one_line(proc, 3, "http://***@127.0.0.1" if backend == "prefect" else "http://127.0.0.1", "unreachable")


def test_credentials_inside_url_flag_are_masked_too(env: dict[str, str]) -> None:
    url = env["BRIDGE_PREFECT_URL"].replace("http://", f"http://u:{SECRET}@")
    proc = sh(trigger("--dag-id", "hello_bridge", "--backend", "prefect", "--url", url), env)
    one_line(proc, 3, "***@")


def test_credentials_inside_a_backend_url_never_reach_a_link_nor_replace_the_token() -> None:
    from bridge.backends.airflow import AirflowBackend
    from bridge.backends.prefect import PrefectBackend

    airflow = AirflowBackend(f"http://admin:{SECRET}@127.0.0.1:1", "admin", SECRET)
    assert airflow.url == "http://127.0.0.1:1"  # requests would send them as Basic auth over the JWT
    assert SECRET not in airflow.run_url("d", "r")
    prefect = PrefectBackend(f"http://u:{SECRET}@127.0.0.1:1/api")
    assert prefect.ui_url == "http://127.0.0.1:1" and SECRET not in prefect.run_url("x")


# -- 3. bridge dev up keeps a running Airflow's password ------------------------------------------------
def test_dev_up_never_resets_the_running_airflows_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from bridge.devstack import StackSettings, process, stack

    s = StackSettings(home=tmp_path, airflow_password="the-shells-own")
    passwords = s.airflow_home / "passwords.json"
    passwords.parent.mkdir(parents=True)
    passwords.write_text(json.dumps({s.airflow_user: "the-running-one"}))
    monkeypatch.setattr(stack, "_check_installed", lambda s: None)
    monkeypatch.setattr(process, "read", lambda run_dir, name: 4242)  # every service already running
    made: list[str] = []
    monkeypatch.setattr(stack, "_services", lambda s: made.append(s.airflow_password) or [])
    monkeypatch.setattr(stack, "status", lambda s: [])
    said: list[str] = []
    stack.up(s, say=said.append)
    assert json.loads(passwords.read_text()) == {s.airflow_user: "the-running-one"}
    assert made == ["the-running-one"]  # the watcher gets the password the running stack has
    assert len(said) == 1 and "kept the running one" in said[0]
    assert "the-running-one" not in said[0] and "the-shells-own" not in said[0]


# -- 4. wrong exit codes and misleading lines ------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--conf", "'{\"a\": NaN}'"], "NaN"),
        (["--conf", '"$(printf \'{"a": "\\377"}\')"'], "not UTF-8"),
        (["--url", "'htp:/bad'"], "not an http"),
        (["--url", "http://h:99999"], "port"),
        (["--url", "http://:80"], "no host"),
        (["--timeout", "-1", "--wait"], "--timeout"),
        (["--conf", "''"], "--conf is empty"),
        (["--shadow", "--backend", "prefect"], "--backend prefect does not apply"),
    ],
)
def test_bad_input_is_exit_2_before_anything_is_triggered(
    env: dict[str, str], args: list[str], word: str
) -> None:
    one_line(sh(trigger("--dag-id", "hello_bridge", *args), env), 2, word)


def test_a_garbage_airflow_url_is_exit_2_naming_it(env: dict[str, str]) -> None:
    proc = sh(trigger("--dag-id", "hello_bridge"), {**env, "BRIDGE_AIRFLOW_URL": "garbage"})
    one_line(proc, 2, "BRIDGE_AIRFLOW_URL", "no scheme")


def test_report_of_an_unknown_workflow_is_exit_2_with_near_names(env: dict[str, str]) -> None:
    one_line(sh(bridge("report", "hello_bridg"), env), 2, "unknown workflow", "hello_bridge")


def test_dev_logs_of_an_unknown_service_is_a_usage_error(env: dict[str, str]) -> None:
    one_line(sh(bridge("dev", "logs", "airflow-schedular"), env), 2, "airflow-scheduler")


# -- 5. never a traceback --------------------------------------------------------------------------------
def test_stdin_closed_is_not_a_traceback(env: dict[str, str]) -> None:
    one_line(sh(trigger("--dag-id", "hello_bridge") + " <&-", env), 3, "unreachable")


@pytest.mark.parametrize("config", ["/tmp", "/bin/ls"])
def test_bridge_config_naming_a_directory_or_a_binary_file_is_exit_2(
    env: dict[str, str], config: str
) -> None:
    one_line(sh(trigger("--dag-id", "hello_bridge"), {**env, "BRIDGE_CONFIG": config}), 2, config)


def test_seed_etl_with_a_garbage_url_is_exit_2(env: dict[str, str]) -> None:
    one_line(sh(bridge("seed", "etl", "--url", "garbage"), env), 2, "source URL")


def test_parity_with_a_negative_count_is_a_usage_error(env: dict[str, str]) -> None:
    proc = sh(bridge("parity", "hello_bridge", "-n", "-1"), env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "-n" in proc.stderr, proc.stderr


def test_a_port_that_is_not_a_number_is_exit_2(env: dict[str, str]) -> None:
    one_line(sh(bridge("dev", "status"), {**env, "BRIDGE_AIRFLOW_PORT": "abc"}), 2, "BRIDGE_AIRFLOW_PORT")


def test_a_deeply_nested_conf_is_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    one_line(sh(trigger("--dag-id", "hello_bridge", "--conf", f"@{deep}"), env), 2, "nested deeper")


def test_report_into_a_directory_is_exit_2_and_leaves_no_tmp(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    one_line(sh(bridge("report", "-o", str(folder)), env), 2, "is a directory")
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("command", [bridge("report"), bridge("--help"), trigger("--help")])
def test_a_full_stdout_is_one_line_and_exit_141(env: dict[str, str], command: str) -> None:
    one_line(sh(command + " > /dev/full", env), 141, "cannot write standard output")


@pytest.mark.parametrize("command", [bridge("report"), trigger("--list")])
def test_a_closed_stdout_does_nothing_and_exits_141(env: dict[str, str], command: str) -> None:
    one_line(sh(command + " >&-", env), 141, "standard output is closed")


def test_a_reader_that_goes_away_is_quiet(env: dict[str, str]) -> None:
    proc = sh(bridge("report", "--format", "json") + " | head -c 1; exit ${PIPESTATUS[0]}", env)
    assert proc.returncode in (0, 141) and proc.stderr == "", proc.stderr


# -- 6. a conf key the flow does not take: said before anything is triggered -----------------------------
SCHEMA = {"properties": {"name": {}, "target": {}}}


def test_an_unknown_conf_key_is_refused_naming_it_and_the_accepted_ones() -> None:
    from bridge.conf import fit_parameters
    from bridge.config import ParamMapping
    from bridge.errors import UsageError

    with pytest.raises(UsageError) as refused:
        fit_parameters(SCHEMA, {"name": "x", "colour": "red"}, "hello_bridge", ParamMapping())
    assert refused.value.exit_code == 2
    assert "'colour'" in str(refused.value) and "name, target" in str(refused.value)
    kept, dropped = fit_parameters(SCHEMA, {"name": "x", "colour": "red"}, "h", ParamMapping(unknown="drop"))
    assert kept == {"name": "x"} and dropped == ["colour"]
    assert fit_parameters(None, {"colour": 1}, "h", ParamMapping()) == ({"colour": 1}, [])


def test_params_unknown_must_be_refuse_or_drop(tmp_path: Path) -> None:
    from bridge import config
    from bridge.errors import ConfigError

    toml = tmp_path / "bridge.toml"
    toml.write_text('[workflows.w]\ndeployment = "f/d"\nparams = { unknown = "keep" }\n')
    with pytest.raises(ConfigError, match="refuse"):
        config.load(toml, env={})
    toml.write_text('[workflows.w]\ndeployment = "f/d"\nparams = { unknown = "drop" }\n')
    assert config.load(toml, env={}).entry("w").params.unknown == "drop"


# -- 7. run ids are never lost ------------------------------------------------------------------------
def test_a_shadow_names_each_sides_run_before_it_waits() -> None:
    import io

    from bridge.backends.base import RunRef, RunState, RunStatus
    from bridge.console.shadow import ShadowProgress

    out = io.StringIO()
    progress = ShadowProgress(out, "hello_bridge")
    ref = RunRef("airflow", "hello_bridge", "bridge__1", "bridge__1")
    progress("airflow", RunStatus(ref, RunState.QUEUED), 0.0)
    progress("prefect", RunStatus(RunRef("prefect", "h/h", "abc-123", "bridge__1"), RunState.QUEUED), 0.1)
    text = out.getvalue()
    assert "bridge status airflow:hello_bridge/bridge__1" in text and "bridge status prefect:abc-123" in text


class _DownMidWait:
    """A backend whose server goes away while we wait on a run."""

    def wait(self, ref: object, timeout: float, progress: object = None) -> None:
        from bridge.errors import BackendUnavailableError

        raise BackendUnavailableError("airflow is unreachable at http://127.0.0.1:1 (ConnectionError)")


class _Backends:
    def get(self, name: str) -> _DownMidWait:
        return _DownMidWait()


def test_unreachable_mid_wait_repeats_the_run_id() -> None:
    import io

    from bridge.backends.base import RunRef
    from bridge.console import Options, guarded
    from bridge.console.runs import follow

    ref = RunRef("airflow", "hello_bridge", "bridge__42", "bridge__42")
    err = io.StringIO()
    code = guarded(
        lambda: follow(_Backends(), ref, Options(wait=True), io.StringIO(), io.StringIO()), err=err
    )
    assert code == 3 and "airflow:hello_bridge/bridge__42" in err.getvalue(), err.getvalue()


def test_the_wait_printed_is_the_real_one_not_the_runs_own_zero() -> None:
    import io
    from datetime import UTC, datetime

    from bridge.backends.base import Observation, RunRef, RunState
    from bridge.console.runs import _print_observation

    now = datetime.now(UTC)
    obs = Observation(RunRef("prefect", "f/d", "x", "c"), RunState.FAILED, {}, None, now, now, None, "")
    out = io.StringIO()
    _print_observation(obs, False, out, waited=5.2)
    assert "failed in 0.0 s (waited 5.2 s)" in out.getvalue()


# -- 8. bounded seeds; long confs from a file or stdin -------------------------------------------------
def test_seed_rows_past_the_bound_is_refused_before_touching_the_source(env: dict[str, str]) -> None:
    proc = sh(bridge("seed", "etl", "--rows", "99999999999999999999"), env)
    assert proc.returncode == 2 and "--rows" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert "cannot use" not in proc.stderr  # refused by the flag's bound, before any connection


def test_conf_from_a_file_and_from_stdin(env: dict[str, str], tmp_path: Path) -> None:
    from bridge.conf import parse_conf

    conf = tmp_path / "conf.json"
    conf.write_text('{"name": "' + "x" * 200_000 + '"}')  # past the 128 KiB a command line may hold
    assert parse_conf(f"@{conf}") == {"name": "x" * 200_000}
    # through the CLI: stdin read, then the (closed) server is the only problem left
    proc = sh(trigger("--dag-id", "hello_bridge", "--conf", "-"), env, stdin='{"name": "you"}')
    one_line(proc, 3, "unreachable")
    one_line(sh(trigger("--dag-id", "hello_bridge", "--conf", "-"), env, stdin=""), 2, "--conf - is empty")


@pytest.mark.parametrize(
    ("where", "word"), [("@/nonexistent/conf.json", "no such file"), ("@/tmp", "directory")]
)
def test_a_conf_file_that_cannot_be_read_is_one_line(env: dict[str, str], where: str, word: str) -> None:
    one_line(sh(bridge("trigger", "hello_bridge", "--conf", where), env), 2, word)


# -- python -m flows.deploy: the same rule ------------------------------------------------------------
def test_flows_deploy_an_unknown_name_is_2_and_a_server_down_is_3_masked(env: dict[str, str]) -> None:
    deploy = f"{sys.executable} -m flows.deploy"
    proc = sh(f"{deploy} --only no_such_flow", env)  # after the line saying where it deploys
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "deploy: unknown deployment(s): no_such_flow"
    down = {**env, "PREFECT_API_URL": f"http://u:{SECRET}@127.0.0.1:{free_port()}/api"}
    proc = sh(f"{deploy} --only hello_bridge", down)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr, proc.stderr
    assert SECRET not in proc.stderr and "***@127.0.0.1" in proc.stderr, proc.stderr
