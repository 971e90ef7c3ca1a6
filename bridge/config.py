"""The catalog: typed settings from bridge.toml plus environment overrides.

Secrets never come from the file: passwords and tokens are read from the environment or asked for.
Unknown keys are errors that name the key, the file and the line.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
STAGES = ("airflow", "shadow", "prefect", "retired")
DEFAULT_AIRFLOW_URL = "http://127.0.0.1:8080"
DEFAULT_PREFECT_URL = "http://127.0.0.1:4200/api"
WAREHOUSE_URL_ENV = "BRIDGE_WAREHOUSE_URL"
DEFAULT_WAREHOUSE_URL = "postgresql://postgres@127.0.0.1:5432/bridge_warehouse"  # the local stack's
SECRET_KEYS = ("password", "token", "api_key", "secret")


@dataclass(frozen=True)
class AirflowSettings:
    url: str = DEFAULT_AIRFLOW_URL
    username: str = "admin"
    timeout: float = 30.0


@dataclass(frozen=True)
class PrefectSettings:
    url: str = DEFAULT_PREFECT_URL
    ui_url: str | None = None
    timeout: float = 30.0


@dataclass(frozen=True)
class ParamMapping:
    """How an Airflow conf becomes Prefect flow parameters: rename keys, add defaults, drop keys."""

    rename: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    unknown: str = "refuse"  # a conf key the flow does not take: "refuse" it (exit 2), or "drop" it (said)

    def apply(self, conf: Mapping[str, Any]) -> dict[str, Any]:
        params = {self.rename.get(k, k): v for k, v in conf.items() if k not in self.drop}
        return {**self.defaults, **params}


@dataclass(frozen=True)
class IgnoreRule:
    """A user noise rule: differences at ``path`` (a glob over dotted paths) are ignored, for ``reason``."""

    path: str
    reason: str


@dataclass(frozen=True)
class TableOutput:
    """A declared table of a workflow's target: it overrides what discovery finds (key, columns), says which
    rows a run is responsible for (``scope``, a SQL condition over the table with ``{conf key}``
    placeholders filled from the run's conf, e.g. ``business_date = {business_date}``), or excludes the
    table from comparison with a reason. Every table not declared is still compared (by its primary key,
    over the rows written in this run)."""

    table: str
    key: tuple[str, ...] = ()
    columns: tuple[str, ...] | None = None
    airflow_url: str | None = None
    prefect_url: str | None = None
    scope: str | None = None
    exclude: str | None = None  # the reason the table is not compared


@dataclass(frozen=True)
class ShadowSettings:
    """How a shadow run of one workflow is set up and compared."""

    target: str | None = None  # the shadow run's `target`; default: shadow_<primary target>
    primary_target: str = "warehouse"  # where the primary writes when its conf names no target
    timeout: float = 1800.0  # the shadow side's own wait; the primary's is the caller's
    float_tolerance: float = 1e-9
    unordered: tuple[str, ...] = ()  # dotted paths of lists compared order-insensitively
    task_map: Mapping[str, str] = field(default_factory=dict)  # Airflow task id -> Prefect task name
    ignore: tuple[IgnoreRule, ...] = ()
    tables: tuple[TableOutput, ...] = ()
    # Tables the workflow reads from its own target (watermarks, state): copied from the primary target
    # into the shadow target (and each calibration control's) before a run, so both start where the
    # legacy side stands.
    start_from_primary: tuple[str, ...] = ()
    # Document paths that fingerprint what a run read (besides the keys it wrote): calibration refuses
    # controls whose fingerprints differ.
    inputs: tuple[str, ...] = ()
    discover: bool = True  # compare every table of the targets, not only the declared ones

    @property
    def compares_tables(self) -> bool:
        """Whether a run's targets hold tables to compare (found, or declared)."""
        return self.discover or bool(self.tables)

    @property
    def uses_targets(self) -> bool:
        """Whether a run touches its targets' database at all (tables to compare, or start state)."""
        return self.compares_tables or bool(self.start_from_primary)

    def shadow_target(self, primary_target: str) -> str:
        """Where the shadow writes: the configured target, else one shadow namespace per primary target
        (so workflows sharing a primary target share its shadow, and state such as watermarks stays in step)."""
        return self.target or f"shadow_{primary_target}"[:63]


@dataclass(frozen=True)
class CutoverSettings:
    """What `bridge cutover` asks of the evidence before it switches a workflow ([workflows.X.cutover])."""

    streak: int = 5  # the last N comparisons must all be `match`
    min_scheduled: int = 3  # of which at least M are shadows of scheduled runs or replays...
    min_business_dates: int = 3  # ...covering at least K distinct business dates


@dataclass(frozen=True)
class WorkflowEntry:
    dag_id: str
    deployment: str | None = None
    stage: str = "airflow"
    description: str = ""
    params: ParamMapping = field(default_factory=ParamMapping)
    shadow: ShadowSettings = field(default_factory=ShadowSettings)
    cutover: CutoverSettings = field(default_factory=CutoverSettings)


@dataclass(frozen=True)
class Catalog:
    path: Path | None
    airflow: AirflowSettings
    prefect: PrefectSettings
    workflows: Mapping[str, WorkflowEntry]
    store_url: str | None = None  # the shadow history; None: SQLite under BRIDGE_HOME
    warehouse_url: str | None = None  # where table outputs live unless a table says otherwise
    # [publish], [alerts], [metrics] as written (bridge.publish.settings types them)
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def entry(self, dag_id: str) -> WorkflowEntry:
        """The catalog's entry, or the defaults for a DAG the catalog does not list (stage airflow)."""
        return self.workflows.get(dag_id) or WorkflowEntry(dag_id)

    def dag_for_deployment(self, deployment: str) -> str | None:
        for entry in self.workflows.values():
            if entry.deployment == deployment:
                return entry.dag_id
        return None


_SCHEMA: dict[str, Any] = {
    "backends": {
        "airflow": {"url": str, "username": str, "timeout": (int, float)},
        "prefect": {"url": str, "ui_url": str, "timeout": (int, float)},
    },
    "workflows": {
        "*": {
            "deployment": str,
            "stage": str,
            "description": str,
            "params": {"rename": dict, "defaults": dict, "drop": list, "unknown": str},
            "shadow": {
                "target": str,
                "primary_target": str,
                "timeout": (int, float),
                "float_tolerance": (int, float),
                "unordered": list,
                "task_map": dict,
                "ignore": [{"path": str, "reason": str}],
                "tables": [
                    {
                        "table": str,
                        "key": list,
                        "columns": list,
                        "airflow_url": str,
                        "prefect_url": str,
                        "scope": str,
                        "exclude": str,
                    }
                ],
                "start_from_primary": list,
                "inputs": list,
                "discover": bool,
            },
            "cutover": {"streak": int, "min_scheduled": int, "min_business_dates": int},
        }
    },
    "store": {"url": str},
    "outputs": {"warehouse_url": str},
    # Publishing, alerts, metrics: typed and checked by bridge.publish.settings (kept raw on the Catalog).
    "publish": {"airflow_note": bool, "prefect_artifact": bool, "prefect_event": bool, "dashboard_url": str},
    "alerts": {
        "on": list,
        "timeout": (int, float),
        "tries": int,
        "webhooks": [{"name": str, "url": str, "url_env": str, "on": list}],
        "commands": [{"name": str, "argv": list, "on": list}],
    },
    "metrics": {"textfile": str, "window": int},
}


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*\[?[\"']?{re.escape(key)}[\"']?\s*[=\]]", text, re.M)
    return text[: match.start()].count("\n") + 1 if match else None


def _check(data: Mapping[str, Any], schema: Mapping[str, Any], where: str, path: Path, text: str) -> None:
    for key, value in data.items():
        dotted = f"{where}.{key}" if where else key
        spec = schema.get(key, schema.get("*"))
        line = _line_of(text, key)
        at = f"{path}:{line}" if line else str(path)
        if any(s in key.lower() for s in SECRET_KEYS):
            raise ConfigError(
                f"{at}: {dotted!r}: secrets are never read from a file; "
                "set them in the environment (e.g. BRIDGE_AIRFLOW_PASSWORD)"
            )
        if spec is None:
            known = ", ".join(k for k in schema if k != "*")
            raise ConfigError(f"{at}: unknown key {dotted!r} (known here: {known})")
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{at}: {dotted!r} must be a table")
            _check(value, spec, dotted, path, text)
        elif isinstance(spec, list):
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                raise ConfigError(f"{at}: {dotted!r} must be an array of tables ([[{dotted}]])")
            for i, item in enumerate(value):
                _check(item, spec[0], f"{dotted}[{i}]", path, text)
        elif not isinstance(value, spec):
            raise ConfigError(f"{at}: {dotted!r} has the wrong type ({type(value).__name__})")


def bridge_home(env: Mapping[str, str] | None = None) -> Path:
    """Where the bridge keeps its state (stack, history, reports): BRIDGE_HOME, else .bridge/ in the repo."""
    env = os.environ if env is None else env
    return Path(env["BRIDGE_HOME"]) if env.get("BRIDGE_HOME") else REPO_ROOT / ".bridge"


def default_warehouse_url(env: Mapping[str, str] | None = None) -> str:
    """Where table outputs live when neither the catalog nor a table names a database."""
    env = os.environ if env is None else env
    return env.get(WAREHOUSE_URL_ENV) or DEFAULT_WAREHOUSE_URL


def config_path(env: Mapping[str, str]) -> Path:
    return Path(env["BRIDGE_CONFIG"]) if env.get("BRIDGE_CONFIG") else REPO_ROOT / "bridge.toml"


def load(path: Path | None = None, env: Mapping[str, str] | None = None) -> Catalog:
    """Read the catalog (a missing default file means built-in defaults) and apply the environment."""
    env = os.environ if env is None else env
    path = path or config_path(env)
    data: dict[str, Any] = {}
    text = ""
    if path.exists():
        text = _read_catalog(path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        _check(data, _SCHEMA, "", path, text)
    elif env.get("BRIDGE_CONFIG"):
        raise ConfigError(f"BRIDGE_CONFIG names {path}, which does not exist")
    backends = data.get("backends", {})
    af = backends.get("airflow", {})
    pf = backends.get("prefect", {})
    airflow = AirflowSettings(
        url=env.get("BRIDGE_AIRFLOW_URL") or af.get("url", DEFAULT_AIRFLOW_URL),
        username=env.get("BRIDGE_AIRFLOW_USERNAME") or af.get("username", "admin"),
        timeout=float(af.get("timeout", 30.0)),
    )
    prefect = PrefectSettings(
        url=env.get("BRIDGE_PREFECT_URL") or pf.get("url", DEFAULT_PREFECT_URL),
        ui_url=env.get("BRIDGE_PREFECT_UI_URL") or pf.get("ui_url"),
        timeout=float(pf.get("timeout", 30.0)),
    )
    workflows = {}
    for dag_id, raw in data.get("workflows", {}).items():
        stage = raw.get("stage", "airflow")
        if stage not in STAGES:
            line = _line_of(text, "stage")
            raise ConfigError(
                f"{path}:{line or '?'}: workflows.{dag_id}.stage is {stage!r}; use one of {', '.join(STAGES)}"
            )
        deployment = raw.get("deployment")
        if deployment is not None and "/" not in deployment:
            raise ConfigError(f"{path}: workflows.{dag_id}.deployment must be 'flow-name/deployment-name'")
        if stage != "airflow" and not deployment:
            raise ConfigError(f"{path}: workflows.{dag_id} is in stage {stage!r} but names no deployment")
        p = raw.get("params", {})
        if p.get("unknown", "refuse") not in ("refuse", "drop"):
            raise ConfigError(
                f"{path}:{_line_of(text, 'unknown') or '?'}: workflows.{dag_id}.params.unknown is "
                f'{p["unknown"]!r}; use "refuse" or "drop"'
            )
        workflows[dag_id] = WorkflowEntry(
            dag_id=dag_id,
            deployment=deployment,
            stage=stage,
            description=raw.get("description", ""),
            params=ParamMapping(
                p.get("rename", {}),
                p.get("defaults", {}),
                tuple(p.get("drop", ())),
                p.get("unknown", "refuse"),
            ),
            shadow=_shadow(raw.get("shadow", {}), f"{path}: workflows.{dag_id}.shadow"),
            cutover=_cutover(raw.get("cutover", {}), f"{path}: workflows.{dag_id}.cutover"),
        )
    return Catalog(
        path if path.exists() else None,
        airflow,
        prefect,
        workflows,
        store_url=env.get("BRIDGE_STORE_URL") or data.get("store", {}).get("url"),
        warehouse_url=env.get(WAREHOUSE_URL_ENV) or data.get("outputs", {}).get("warehouse_url"),
        sections={k: data[k] for k in ("publish", "alerts", "metrics") if k in data},
    )


def _read_catalog(path: Path) -> str:
    """The catalog file's text; a directory, an unreadable or a binary file is a ConfigError."""
    try:
        return path.read_bytes().decode("utf-8")
    except IsADirectoryError:
        raise ConfigError(f"{path} is a directory: BRIDGE_CONFIG must name a bridge.toml file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not a UTF-8 text file (byte {exc.start}): not a bridge.toml") from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None


def _cutover(raw: Mapping[str, Any], where: str) -> CutoverSettings:
    values = {**CutoverSettings().__dict__, **raw}
    for key, value in values.items():
        if value < 1:
            raise ConfigError(f"{where}.{key} must be at least 1, not {value}")
    if values["min_scheduled"] > values["streak"]:
        raise ConfigError(
            f"{where}.min_scheduled ({values['min_scheduled']}) cannot exceed streak ({values['streak']}): "
            "the scheduled shadows are counted among the streak's comparisons"
        )
    return CutoverSettings(**values)


def _shadow(raw: Mapping[str, Any], where: str) -> ShadowSettings:
    rules = []
    for i, rule in enumerate(raw.get("ignore", [])):
        if not str(rule.get("reason", "")).strip() or not rule.get("path"):
            raise ConfigError(f"{where}.ignore[{i}]: every ignore rule needs a path and a written reason")
        rules.append(IgnoreRule(rule["path"], rule["reason"].strip()))
    tables = []
    for i, t in enumerate(raw.get("tables", [])):
        if not t.get("table"):
            raise ConfigError(f"{where}.tables[{i}]: a table entry needs `table`")
        if "exclude" in t and not str(t["exclude"]).strip():
            raise ConfigError(
                f"{where}.tables[{i}]: `exclude` is the written reason the table is not compared"
            )
        tables.append(
            TableOutput(
                t["table"],
                tuple(t.get("key", ())),
                tuple(t["columns"]) if t.get("columns") else None,
                t.get("airflow_url"),
                t.get("prefect_url"),
                t.get("scope"),
                str(t["exclude"]).strip() if "exclude" in t else None,
            )
        )
    base = ShadowSettings()
    return ShadowSettings(
        target=raw.get("target", base.target),
        primary_target=raw.get("primary_target", base.primary_target),
        timeout=float(raw.get("timeout", base.timeout)),
        float_tolerance=float(raw.get("float_tolerance", base.float_tolerance)),
        unordered=tuple(raw.get("unordered", ())),
        task_map=dict(raw.get("task_map", {})),
        ignore=tuple(rules),
        tables=tuple(tables),
        start_from_primary=tuple(raw.get("start_from_primary", ())),
        inputs=tuple(raw.get("inputs", ())),
        discover=bool(raw.get("discover", True)),
    )
