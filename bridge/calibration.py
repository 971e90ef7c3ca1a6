"""Calibration: measure what varies between clean runs of the legacy workflow on equal inputs.

Each control is one Airflow run into a target of its own (``calib<i>_<primary target>``), reset and then
given the primary's start state (``start_from_primary``), exactly as a shadow target is. A control's
**fingerprint** is what it was given and what it read: its conf (but the target), the values at the
workflow's declared ``inputs`` paths, and per table the count and key checksum of the rows it wrote (for a
queue worker: the message ids it consumed). Calibration refuses, recording nothing, when a control failed,
when the fingerprints differ (the controls saw different inputs: what differs would be input, not noise),
or when the controls wrote nothing to tables they have (they did no work: nothing was measured).

What varies between the controls' documents becomes the workflow's noise, sized: for numbers the largest
absolute and relative spread seen, for anything else "varies" (see :func:`bridge.compare.values.spreads`).

The controls are runs of one side, not comparisons of two: none is recorded in the comparisons (origin
``calibration`` of :data:`bridge.shadow.Origin` names such a run); what is recorded is the calibration
(``Store.record_calibration``), kept apart from the shadow job's comparisons.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bridge.compare.model import Calibration
from bridge.compare.normalize import normalize
from bridge.compare.outputs import prepare_targets
from bridge.compare.values import spreads
from bridge.config import WorkflowEntry, default_warehouse_url
from bridge.errors import CalibrationRefusedError, UsageError
from bridge.operations import Backends, ensure_startable, new_correlation_id
from bridge.shadow import SideProgress, identity, run_side

__all__ = ["CONTROL_PREFIX", "calibrate", "control_targets", "fingerprint"]

CONTROL_PREFIX = "calib"


def control_targets(primary: str, runs: int) -> list[str]:
    """The control targets of a calibration of ``primary``: ``calib1_<primary>``, ``calib2_<primary>``..."""
    return [f"{CONTROL_PREFIX}{i}_{primary}"[:63] for i in range(1, runs + 1)]


def _at(document: Any, path: str) -> Any:
    value = document
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def fingerprint(
    entry: WorkflowEntry, conf: Mapping[str, Any], document: Any, tables: Mapping[str, tuple[int, int]]
) -> dict[str, Any]:
    """What one control was given and read (see the module doc), as a JSON-able mapping."""
    return {
        "conf": {k: v for k, v in sorted(conf.items()) if k != "target"},
        "inputs": {p: _at(document, p) for p in entry.shadow.inputs},
        "tables": {name: list(v) for name, v in sorted(tables.items())},
    }


def _digest(print_: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(print_, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _explain(prints: list[dict[str, Any]], controls: list[str]) -> str:
    """Where the first two differing fingerprints differ, in a few words."""
    first = prints[0]
    for target, other in zip(controls[1:], prints[1:], strict=False):
        if other == first:
            continue
        for part in ("conf", "inputs", "tables"):
            names = sorted(set(first[part]) | set(other[part]))
            for name in names:
                a, b = first[part].get(name), other[part].get(name)
                if a != b:
                    what = f"rows written, key checksum of {name}" if part == "tables" else f"{part} {name}"
                    return f"{controls[0]} vs {target}: {what} {json.dumps(a)} vs {json.dumps(b)}"
    return "fingerprints differ"


def calibrate(
    backends: Backends,
    dag_id: str,
    conf: Mapping[str, Any],
    runs: int,
    timeout: float,
    progress: SideProgress | None = None,
) -> Calibration:
    """Run ``runs`` controls of ``dag_id`` on Airflow, each in its own target from the same start state;
    return the noise measured between them, or raise CalibrationRefusedError (nothing recorded)."""
    from bridge.compare.outputs import key_fingerprints
    from bridge.compare.targets import reset_schema

    if runs < 2:
        raise UsageError("--runs must be at least 2: noise is what differs between two runs")
    entry = backends.catalog.entry(dag_id)
    settings = entry.shadow
    primary = str(conf.get("target", settings.primary_target))
    controls = control_targets(primary, runs)
    url = backends.catalog.warehouse_url or default_warehouse_url()
    docs, prints, wrote_any, has_tables = [], [], False, False
    ensure_startable(backends, "airflow", dag_id, waiting=True)  # a paused DAG: refused, not waited on
    for target in controls:
        if settings.uses_targets:
            reset_schema(url, target, CONTROL_PREFIX)
        targets = prepare_targets(url, settings, primary, [target])
        run_conf = {**conf, "target": target}
        outcome = run_side(
            backends, "airflow", dag_id, run_conf, new_correlation_id(), timeout, entry, progress
        )
        if not outcome.ok or outcome.document is None:
            raise CalibrationRefusedError(
                f"calibration of {dag_id} refused: control run {outcome.run} into {target} ended "
                f"{outcome.state}; calibrate from clean runs only"
            )
        doc = normalize(outcome.document, identity(outcome, target), settings.unordered)
        tables = (
            key_fingerprints(settings, url, target, targets.marker(url)) if settings.compares_tables else {}
        )
        has_tables = has_tables or bool(tables)
        wrote_any = wrote_any or any(count for count, _ in tables.values())
        docs.append(doc)
        prints.append(fingerprint(entry, run_conf, doc, tables))
    if has_tables and not wrote_any:
        raise CalibrationRefusedError(
            f"calibration of {dag_id} refused: the controls ({', '.join(controls)}) wrote no rows, so they did"
            " no work and measured nothing; give each control its input (e.g. publish the messages to every"
            " control target's queue) and retry"
        )
    if any(p != prints[0] for p in prints[1:]):
        raise CalibrationRefusedError(
            f"calibration of {dag_id} refused: the controls saw different inputs ({_explain(prints, controls)});"
            " noise is only what differs between runs on equal inputs"
        )
    return Calibration(
        dag_id,
        datetime.now(UTC),
        runs,
        tuple(controls),
        tuple(_digest(p) for p in prints),
        tuple(spreads(docs, settings.float_tolerance)),
    )
