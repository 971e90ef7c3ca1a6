"""Fixtures of the fidelity suite: the test stack's backends, every port deployed once, one ``Case`` per
test (targets of its own, dropped at the end), the cases' shadow runs started together (``Scenarios``),
and the tally printed at the end of the session.

A test marked ``divergent(bug)`` shadow-runs a port with one deliberate bug and passes only if the verdict
is ``mismatch`` naming the right path, table and keys; ``control(what)`` marks a negative control that
passes only on ``match``. The tally counts what actually happened to each of them.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest

from bridge import config, shadow
from bridge.compare.model import Difference, TableDiff
from bridge.operations import Backends
from tests.fidelity.ports import PORTS, deploy_script
from tests.helpers import run_prefect_script, wait_for_dags

SEED_ROWS, SEED = 300, 11  # the source every case reads (the same as tests/integration/test_shadow.py's)
TIMEOUT = 240.0  # per side of one shadow run
DAGS = (
    "hello_bridge",
    "process_products",
    "update_prices_daily",
    "etl_products",
    "etl_orders",
    "rabbitmq_worker",
    "sqs_worker",
)
_TALLY: dict[str, dict[str, tuple[bool, list[str]]]] = {"divergent": {}, "control": {}}
_VERDICTS = pytest.StashKey[list[str]]()
_CHOSEN = pytest.StashKey[dict[str, Any]]()
WORKERS = 4  # shadow runs at once: the orchestrators, not this process, are the bottleneck


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "divergent(bug): a divergent port; its shadow must be a mismatch (tally)"
    )
    config.addinivalue_line(
        "markers", "control(what): a negative control; its shadow must be a match (tally)"
    )
    config.addinivalue_line("markers", "scenario(name): the test's scenario in its module's SCENARIOS")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """Record each marked case's outcome (passed or not, and the verdicts its shadow runs gave)."""
    report = yield
    if call.when == "call" or (report.failed and call.when == "setup"):
        for kind in _TALLY:
            mark = item.get_closest_marker(kind)
            if mark is not None:
                _TALLY[kind][mark.args[0]] = (report.passed, list(item.stash.get(_VERDICTS, [])))
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """``fidelity: caught 12/12 divergent ports, false alarms 0/5 controls``, from the recorded outcomes: a
    port is caught when its test passed (mismatch, naming the bug); a control that failed is an alarm."""
    ports, controls = _TALLY["divergent"], _TALLY["control"]
    if not ports and not controls:
        return
    caught = sum(1 for passed, _ in ports.values() if passed)
    alarms = sum(1 for passed, _ in controls.values() if not passed)
    silent = sum(
        1 for passed, verdicts in (*ports.values(), *controls.values()) if not passed and not verdicts
    )
    terminalreporter.write_sep("-", "fidelity")
    for kind, cases in (("divergent", ports), ("control", controls)):
        good, bad = ("caught", "MISSED") if kind == "divergent" else ("ok", "ALARM")
        for name, (passed, verdicts) in sorted(cases.items()):
            said = "; ".join(verdicts) or "no verdict (the test failed before its shadow run ended)"
            terminalreporter.write_line(f"  {kind} {name}: {good if passed else bad}: {said}")
    line = f"fidelity: caught {caught}/{len(ports)} divergent ports, false alarms {alarms}/{len(controls)} controls"
    terminalreporter.write_line(line + (f" ({silent} without a verdict)" if silent else ""))


@pytest.fixture(scope="session")
def ports_deployed(stack: Any, deployed: Mapping[str, str], data_urls: Mapping[str, str]) -> dict[str, str]:
    """The source seeded, every DAG parsed, and every port of ``tests/fidelity/ports`` deployed (one script)."""
    from devkit.etl_seed import seed_etl

    seed_etl(data_urls["BRIDGE_SOURCE_URL"], SEED_ROWS, SEED)
    run_prefect_script(stack.prefect_url, deploy_script())
    return {name: p.deployment for name, p in PORTS.items()}


@pytest.fixture(scope="package")
def backends(stack: Any, ports_deployed: Mapping[str, str], data_urls: Mapping[str, str]) -> Backends:
    env = {
        "BRIDGE_AIRFLOW_URL": stack.airflow_url,
        "BRIDGE_PREFECT_URL": stack.prefect_url,
        "BRIDGE_AIRFLOW_PASSWORD": stack.airflow_password,
        **dict(stack.extra_env),
    }
    b = Backends(config.load(env=env), env=env)
    wait_for_dags(b.get("airflow"), DAGS)
    return b


@dataclasses.dataclass
class Case:
    """One test's shadow runs: its own primary (``<token>_af``) and shadow (``<token>_pf``) targets."""

    backends: Backends
    urls: Mapping[str, str]
    sqs_url: str
    seed: int = SEED
    token: str = dataclasses.field(default_factory=lambda: f"fd{secrets.token_hex(3)}")
    verdicts: list[str] = dataclasses.field(default_factory=list)
    streams: list[tuple[str, str, list[str]]] = dataclasses.field(default_factory=list)

    @property
    def primary(self) -> str:
        return f"{self.token}_af"

    @property
    def secondary(self) -> str:
        return f"{self.token}_pf"

    def backends_for(self, dag_id: str, port: str | None = None, **shadow_changes: Any) -> Backends:
        """The catalog with ``dag_id``'s entry pointed at this case's shadow target (and at ``port``'s
        deployment, if given), its shadow settings changed by ``shadow_changes``."""
        entry = self.backends.catalog.entry(dag_id)
        settings = dataclasses.replace(entry.shadow, target=self.secondary, timeout=TIMEOUT, **shadow_changes)
        deployment = PORTS[port].deployment if port else entry.deployment
        changed = dataclasses.replace(entry, shadow=settings, deployment=deployment)
        workflows = {**self.backends.catalog.workflows, dag_id: changed}
        return Backends(
            dataclasses.replace(self.backends.catalog, workflows=workflows), env=self.backends.env
        )

    def shadow(
        self,
        dag_id: str,
        conf: Mapping[str, Any],
        *,
        port: str | None = None,
        at: datetime | None = None,
        noise: Any = None,
        **shadow_changes: Any,
    ) -> shadow.ShadowResult:
        """One shadow run of ``dag_id`` (primary target: this case's) against ``port`` or the shipped flow."""
        b = self.backends_for(dag_id, port, **shadow_changes)
        extra = {} if noise is None else {"noise": noise}
        result = shadow.run(b, dag_id, {**conf, "target": self.primary}, timeout=TIMEOUT, at=at, **extra)
        self.verdicts.append(result.verdict_line)
        return result

    def sql(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``query`` on the warehouse (committed)."""
        import psycopg

        with psycopg.connect(self.urls["BRIDGE_WAREHOUSE_URL"], autocommit=True) as conn:
            cur = conn.execute(query, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def stream(self, broker: str, targets: Sequence[str]) -> str:
        """A new stream of this case; its queues for ``targets`` are deleted at the end."""
        stream = f"s{self.token}{len(self.streams)}"
        self.streams.append((broker, stream, list(targets)))
        return stream

    def publish(
        self, broker: str, targets: Sequence[str], count: int, stream: str | None = None, **options: Any
    ) -> str:
        """Publish ``count`` order events (``devkit.producer`` options: poison, malformed, duplicates,
        start) to every target's queue of ``stream`` (default: a new one); returns the stream."""
        from devkit.producer import publish_orders

        if stream is None:
            stream = self.stream(broker, targets)
        else:
            self.streams.append((broker, stream, list(targets)))
        url = self.sqs_url if broker == "sqs" else None
        publish_orders(broker, count, self.seed, targets=list(targets), stream=stream, url=url, **options)
        return stream

    @staticmethod
    def explain(result: shadow.ShadowResult) -> str:
        """What a shadow run found, for an assertion message: the verdict line, the differences, the tables."""
        lines = [result.verdict_line, f"primary: {result.primary.state} {result.primary.error or ''}"]
        lines.append(f"shadow: {result.shadow.state} {result.shadow.error or ''}")
        lines += [f"  {d.kind} {d.path}: {d.airflow!r} -> {d.prefect!r} {d.note}" for d in result.differences]
        lines += [f"  table {t.to_dict()}" for t in result.tables]
        return "\n".join(lines)

    def table(self, result: shadow.ShadowResult, name: str) -> TableDiff:
        """The comparison of table ``name`` in ``result`` (fails naming the tables compared if absent)."""
        found = [t for t in result.tables if t.table == name]
        assert found, f"table {name} was not compared\n{self.explain(result)}"
        return found[0]

    def difference(self, result: shadow.ShadowResult, path: str) -> Difference:
        """The real (not ignored, not noise) difference at ``path`` (fails with the whole diff if absent)."""
        found = [d for d in result.real_differences if d.path == path]
        assert found, f"no real difference at {path}\n{self.explain(result)}"
        return found[0]

    def cleanup(self) -> None:
        """Drop every schema of this case (primary, shadow, calibration controls) and its queues."""
        from pipelines.adapters import rabbitmq_admin, sqs_admin

        for broker, stream, targets in self.streams:
            if broker == "sqs":
                sqs_admin.delete_stream(stream, targets, endpoint=self.sqs_url)
            else:
                rabbitmq_admin.delete_stream(stream, targets)
        for (schema,) in self.sql(
            "SELECT nspname FROM pg_namespace WHERE position(%s in nspname) > 0", (self.token,)
        ):
            self.sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class Scenarios:
    """Every selected case's shadow runs, started at once on a few threads (each case waits mostly on the
    orchestrators: run in turn, the folder takes minutes more); each test then waits for its own.

    A test module lists its cases in ``SCENARIOS``: ``{name: fn(case, scenarios) -> value}``, ``name`` being
    the one its test is marked with. ``once`` makes a value several cases share (e.g. one calibration)."""

    def __init__(self, make_case: Callable[[], Case], chosen: Mapping[str, Any], workers: int) -> None:
        self.make_case = make_case
        self.cases: list[Case] = []
        self._lock = threading.Lock()
        self._shared: dict[str, Future[Any]] = {}
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="fidelity")
        self.futures = {name: self._pool.submit(self._run, fn) for name, fn in chosen.items()}

    def _case(self) -> Case:
        case = self.make_case()
        with self._lock:
            self.cases.append(case)
        return case

    def _run(self, fn: Callable[[Case, Scenarios], Any]) -> tuple[Case, Any, BaseException | None]:
        case = self._case()
        try:
            return case, fn(case, self), None
        except BaseException as exc:  # raised again in the test that waits for it
            return case, None, exc

    def once(self, key: str, make: Callable[[Case], Any]) -> Any:
        """``make(case)`` the first time ``key`` is asked for (its case kept to the end), then the same value."""
        with self._lock:
            future, mine = self._shared.get(key), False
            if future is None:
                future, mine = Future(), True
                self._shared[key] = future
        if mine:
            try:
                future.set_result(make(self._case()))
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for case in self.cases:
            case.cleanup()


def _scenario_name(item: pytest.Item) -> str | None:
    for kind in (*_TALLY, "scenario"):
        mark = item.get_closest_marker(kind)
        if mark is not None:
            return str(mark.args[0])
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Note the scenarios of the selected tests (only those are run)."""
    chosen = {}
    for item in session.items:
        name = _scenario_name(item)
        table = getattr(getattr(item, "module", None), "SCENARIOS", {})
        if name is not None and name in table:
            chosen[name] = table[name]
    session.config.stash[_CHOSEN] = chosen


@pytest.fixture(scope="package")
def scenarios(
    request: pytest.FixtureRequest, backends: Backends, stack: Any, data_urls: Mapping[str, str]
) -> Iterator[Scenarios]:
    chosen = request.config.stash.get(_CHOSEN, {})
    runner = Scenarios(lambda: Case(backends, data_urls, stack.sqs_url), chosen, WORKERS)
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture
def ran(request: pytest.FixtureRequest, scenarios: Scenarios) -> Iterator[tuple[Case, Any]]:
    """This test's case and what its scenario returned (its error raised here); the case is dropped after
    the test, and what its shadow runs said goes into the tally."""
    name = _scenario_name(request.node)
    assert name is not None and name in scenarios.futures, (
        f"no scenario {name!r} in {request.module.__name__}"
    )
    case, value, error = scenarios.futures[name].result(timeout=900)
    request.node.stash[_VERDICTS] = case.verdicts
    try:
        if error is not None:
            raise error
        yield case, value
    finally:
        case.cleanup()
        with scenarios._lock:
            scenarios.cases.remove(case)
