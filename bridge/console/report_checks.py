"""What `bridge report` refuses before it renders anything: a workflow nobody knows, an output path it
cannot write a file at (a directory, a missing folder's parent that is a file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.errors import UnknownWorkflowError, UsageError


def check_report_request(store: Any, catalog: Any, workflow: str | None, output: str | None) -> None:
    """Raise UnknownWorkflowError (near names suggested) for a workflow neither the catalog nor the
    history store knows, and UsageError for an ``-o`` that names a directory: nothing is written."""
    if workflow is not None and workflow not in catalog.workflows:
        recorded = store.workflows()
        if workflow not in recorded:
            raise UnknownWorkflowError(workflow, sorted({*catalog.workflows, *recorded}))
    if output is None:
        return
    path = Path(output)
    if path.is_dir():
        raise UsageError(f"-o {output} is a directory: give a file path, e.g. -o {path / 'report.html'}")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"-o {output}: {parent} is a file, not a folder")
