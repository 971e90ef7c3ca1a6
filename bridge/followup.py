"""What follows recorded comparisons or a stage change, at the faces (the CLI, the watcher, the demo):
each workflow's evidence gates checked again (one that turned red is an alert: bridge.cutover.gate_alerts)
and the metrics textfile rewritten when ``[metrics] textfile`` is set. Best-effort: never raises, a
problem is one warning line on stderr.

It lives above bridge.cutover and bridge.metrics (the shadow job below them cannot import either); the
verdicts themselves are published by the shadow job (bridge.shadow.record → bridge.publish).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bridge.config import Catalog
from bridge.store import Store

log = logging.getLogger("bridge.publish")


def after_comparisons(store: Store, catalog: Catalog, workflows: Iterable[str]) -> None:
    """The gates of each of ``workflows`` checked for one turning red, then the textfile rewritten."""
    from bridge.cutover import gate_alerts

    for workflow in sorted(set(workflows)):
        gate_alerts.check(store, catalog, workflow)
    write_textfile(store, catalog)


def write_textfile(store: Store, catalog: Catalog) -> None:
    """Rewrite ``[metrics] textfile`` (atomically) when it is set."""
    try:
        from bridge import metrics
        from bridge.publish.settings import metrics_settings

        path = metrics_settings(catalog).textfile
        if path is not None:
            metrics.write_textfile(store, path, catalog)
    except Exception as exc:
        log.warning("bridge: could not write the metrics textfile: %s", exc)
