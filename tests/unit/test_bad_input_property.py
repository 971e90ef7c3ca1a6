"""Issue 15's general rule, as a property: whatever a person types (a --conf, an id, a URL, a number, a
config file), each CLI ends with a documented exit code, at most a few lines on stderr, never a traceback
nor an unexpected error, and never the password it was given.

The real CLIs run in-process through their main functions (trigger_script.main, the click group's main),
against local ports nothing listens on, so "unreachable" is exit 3 at once. On a failure Hypothesis prints
the falsifying example and the blob that reproduces it (``print_blob``)."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import free_port

pytestmark = pytest.mark.unit

SECRET = "pr0p-Secret-7f3a"
DOCUMENTED = {0, 1, 2, 3, 4, 5, 6, 7, 8, 130, 141}
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    print_blob=True,
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
HOME = Path(tempfile.mkdtemp(prefix="bridge-property-"))
CLOSED = {
    "BRIDGE_HOME": str(HOME),
    "BRIDGE_AIRFLOW_URL": f"http://127.0.0.1:{free_port()}",
    "BRIDGE_PREFECT_URL": f"http://127.0.0.1:{free_port()}/api",
    "BRIDGE_AIRFLOW_PASSWORD": SECRET,
    "BRIDGE_SOURCE_URL": f"mysql+pymysql://root@127.0.0.1:{free_port()}/bridge_nowhere",
}


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries of a refused connection without their sleeps: the property runs many examples."""
    from bridge.backends import http

    monkeypatch.setattr(http, "BACKOFF", 0.0)


@contextmanager
def process(argv: list[str], env: dict[str, str]) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """sys.argv, the environment and the standard streams of one CLI run, restored afterwards."""
    saved = (sys.argv, sys.stdin, sys.stdout, sys.stderr, dict(os.environ))
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update({k: v for k, v in saved[4].items() if not k.startswith(("BRIDGE_", "PREFECT_"))})
    os.environ.update(env)
    sys.argv, sys.stdin, sys.stdout, sys.stderr = argv, io.StringIO(""), out, err
    try:
        yield out, err
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved[:4]
        os.environ.clear()
        os.environ.update(saved[4])


def run_trigger_script(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    import trigger_script

    with process(["trigger_script.py", *args], {**CLOSED, **(env or {})}) as (out, err):
        code = trigger_script.main()
    return code, out.getvalue(), err.getvalue()


def run_bridge(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    from bridge.cli import main

    with process(["bridge", *args], {**CLOSED, **(env or {})}) as (out, err):
        try:
            main.main(args=args, prog_name="bridge")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def holds(result: tuple[int, str, str], codes: set[int] = DOCUMENTED) -> None:
    """The rule: a documented code, a few lines, no traceback, no bug, no secret."""
    code, out, err = result
    assert code in codes, (code, err)
    assert "Traceback" not in err and "unexpected error" not in err, err
    assert len(err.strip().splitlines()) <= 4, err
    assert SECRET not in out and SECRET not in err, (out, err)


# -- what people type ------------------------------------------------------------------------------------
def _json_like() -> st.SearchStrategy[str]:
    import json

    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    values = st.recursive(
        scalars,
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3),
        max_leaves=10,
    )
    return values.map(lambda v: json.dumps(v, allow_nan=True))


CONFS = (
    st.text(max_size=40)
    | _json_like()
    | st.sampled_from(
        ["", "-", "@", "@/nonexistent.json", "@/tmp", "{", '{"a": NaN}', "[" * 5000, "null", "{}"]
    )
    | st.integers(1, 3000).map(lambda n: '{"a": ' + "[" * n + "]" * n + "}")
)
IDS = st.text(max_size=30) | st.sampled_from(["hello_bridge", "zoo_params", "-x", "--list", "a/b", "🙂", "-"])
HOSTS = st.sampled_from(["127.0.0.1", "localhost", "[::1]", "", "256.0.0.1", "h h", f"u:{SECRET}@127.0.0.1"])
PORTS = st.one_of(
    st.integers(-5, 70000).map(str), st.text(max_size=4), st.sampled_from(["", "[", "0", "1e3"])
)
SCHEMES = st.sampled_from(["http", "https", "htp", "ftp", "", "HTTP"])


def _offline(url: str) -> bool:
    """Whether ``url`` cannot send the test to a name server: random hosts stay local."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return True
    if "\x00" in url:  # no environment variable can hold it
        return False
    return parts.scheme.lower() not in ("http", "https") or host in ("", "127.0.0.1", "localhost", "::1")


URLS = (
    st.builds(
        lambda s, h, p, path: f"{s}://{h}:{p}{path}",
        SCHEMES,
        HOSTS,
        PORTS,
        st.sampled_from(["", "/api", "/x y"]),
    )
    | st.text(max_size=30)
).filter(_offline)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**22), 10**22).map(str),
    st.text(st.characters(blacklist_characters="\x00"), max_size=6),
)


# -- the properties ----------------------------------------------------------------------------------
@SETTINGS
@given(conf=CONFS, dag_id=IDS)
def test_any_conf_and_id_on_trigger_script(conf: str, dag_id: str) -> None:
    holds(run_trigger_script(["--dag-id", dag_id, "--conf", conf]), {2, 3})


@SETTINGS
@given(url=URLS, backend=st.sampled_from(["auto", "airflow", "prefect"]), shadow=st.booleans())
def test_any_url_on_both_clis(url: str, backend: str, shadow: bool) -> None:
    flags = ["--backend", backend, "--url", url] + (["--shadow"] if shadow else [])
    holds(run_trigger_script(["--dag-id", "hello_bridge", *flags]), {2, 3})
    holds(run_bridge(["trigger", "hello_bridge", *flags]), {2, 3})
    holds(
        run_trigger_script(
            ["--dag-id", "hello_bridge"], {"BRIDGE_PREFECT_URL": url, "BRIDGE_AIRFLOW_URL": url}
        ),
        {2, 3},
    )


@SETTINGS
@given(timeout=NUMBERS, count=NUMBERS, rows=NUMBERS)
def test_any_number(timeout: str, count: str, rows: str) -> None:
    holds(run_trigger_script(["--dag-id", "hello_bridge", "--wait", "--timeout", timeout]), {2, 3})
    holds(run_bridge(["parity", "hello_bridge", "-n", count]), {2, 3})
    holds(run_bridge(["seed", "etl", "--rows", rows]), {2, 3})
    holds(run_bridge(["dev", "status"], {"BRIDGE_AIRFLOW_PORT": count}), {2, 3})


@SETTINGS
@given(run_id=IDS | st.builds(lambda b, r: f"{b}:{r}", st.sampled_from(["airflow", "prefect", "x"]), IDS))
def test_any_run_id(run_id: str) -> None:
    # a catalogued workflow's status (hello_bridge) reads the store and says the servers are down: 0
    holds(run_bridge(["status", run_id]), {0, 2, 3})
    holds(run_bridge(["report", run_id]), {0, 2})


@SETTINGS
@given(
    content=st.binary(max_size=200)
    | st.text(max_size=200).map(str.encode)
    | st.sampled_from(
        [b'[backends.airflow]\npassword = "x"\n', b"[workflows.w]\nstage = 'nope'\n", b"\xff\xfe"]
    )
)
def test_any_config_file(content: bytes) -> None:
    config = HOME / "bridge.toml"
    config.write_bytes(content)
    holds(run_trigger_script(["--dag-id", "hello_bridge"], {"BRIDGE_CONFIG": str(config)}), {2, 3})
    holds(run_bridge(["report"], {"BRIDGE_CONFIG": str(config)}), {0, 2})


@SETTINGS
@given(
    spelling=st.sampled_from(["--pa", "--pas", "--pass", "--passw", "--passwo", "--passwor", "--password"]),
    joined=st.booleans(),
    value=st.sampled_from([SECRET, ""]),
)
def test_any_password_spelling_leaves_the_command_line(spelling: str, joined: bool, value: str) -> None:
    """The hand-off (before any parsing) never passes the password on in argv, and never prints it."""
    import trigger_script

    given_args = [f"{spelling}={value}"] if joined else [spelling, value]
    seen: list[list[str]] = []
    with process(["trigger_script.py", "--dag-id", "d", *given_args], {}) as (out, err):
        saved: Callable[..., None] = os.execve
        os.execve = lambda path, argv, env: seen.append(list(argv))  # type: ignore[assignment]
        try:
            trigger_script._handoff()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            os.execve = saved
    assert all(SECRET not in arg for argv in seen for arg in argv)
    assert SECRET not in out.getvalue() + err.getvalue()
    assert code == (0 if spelling == "--password" and value else 2)
