"""Shadows of the scheduled runs: ``bridge watch`` pairs the run each scheduler made for one instant.

For every workflow in stage ``shadow`` (or ``prefect``, whose Airflow DAG is a reverse shadow), each cycle
lists the runs both schedulers made since the workflow's cursor (:mod:`bridge.watch.listing`: one paged
request per server for all watched workflows, whatever their number), pairs them by their schedule
instant (:mod:`bridge.watch.pairing`), compares each finished pair and records it with origin
``scheduled``; a run with no counterpart after the grace window is recorded as verdict ``missing``. The
cursor lives in the history store (:mod:`bridge.watch.state`); a recorded scheduled comparison is the
mark that its pair is done, so a watcher killed at any point neither loses a pair nor compares one twice
(:mod:`bridge.watch.cycle`).
"""

from __future__ import annotations

from bridge.watch.cycle import CycleReport, Watcher, WatchSettings
from bridge.watch.listing import ScheduledRun
from bridge.watch.pairing import Decision, decide

__all__ = ["CycleReport", "Decision", "ScheduledRun", "WatchSettings", "Watcher", "decide"]
