"""Prometheus metrics of the shadow history, for the dashboard's ``/metrics`` and a textfile collector.

``exposition(store)`` renders the text format (``CONTENT_TYPE``) from the store at each call;
``write_textfile(store, path)`` writes the same atomically (a temporary file in the same folder, then a
rename: node_exporter's textfile collector never reads half a file), for setups that run only the CLI.
The series are listed in bridge.metrics.collect and the README.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from bridge.config import Catalog
from bridge.metrics.collect import StoreCollector
from bridge.store import Store

__all__ = ["CONTENT_TYPE", "exposition", "stages_of", "write_textfile"]

CONTENT_TYPE = CONTENT_TYPE_LATEST


def stages_of(store: Store, catalog: Catalog | None = None) -> dict[str, str]:
    """workflow -> stage: bridge.toml's (when given), the store's ledger over it."""
    from bridge.cutover.ledger import Ledger

    stages = {w: e.stage for w, e in (catalog.workflows.items() if catalog else ())}
    stages.update({w: r.stage for w, r in Ledger(store).all_current().items()})
    return stages


def exposition(store: Store, catalog: Catalog | None = None, window: int | None = None) -> bytes:
    """The metrics in Prometheus' text format, read from ``store`` now."""
    from bridge.publish.settings import metrics_settings

    if window is None:
        window = metrics_settings(catalog).window if catalog else 20
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store, stages_of(store, catalog), window))
    return generate_latest(registry)


def write_textfile(store: Store, path: Path, catalog: Catalog | None = None) -> Path:
    """Write the metrics to ``path`` atomically; return it."""
    data = exposition(store, catalog)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
