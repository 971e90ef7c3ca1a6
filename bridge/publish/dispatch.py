"""The sender: drains the outbox in a background thread, so publishing never delays nor fails a run.

Why an outbox drained by a thread, and not a thread alone: the deliveries are written to the store with
the comparison, before anything is sent, so each one is recorded whatever happens next (sent, failed and
why, or still pending when the process ended: the next sender, of any process, sends it). The thread
sends with bounded retries (``bridge.publish.retry``); at exit the process waits for it at most
``EXIT_WAIT`` seconds, so a dead receiver delays a CLI's exit by that much at worst and never its run.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import uuid

from bridge.operations import Backends
from bridge.publish.outbox import Outbox
from bridge.publish.retry import BACKOFF, with_retries
from bridge.publish.senders import send
from bridge.publish.settings import alert_settings
from bridge.store import Store

EXIT_WAIT = 5.0  # seconds a process waits at exit for its sender
log = logging.getLogger("bridge.publish")
_threads: list[threading.Thread] = []
_lock = threading.Lock()
_registered = False


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def drain(store: Store, backends: Backends) -> int:
    """Send every delivery that is waiting (in this thread); return how many were tried. Failures are
    recorded and each logged as one warning."""
    outbox = Outbox(store)
    alerts = alert_settings(backends.catalog)
    owner = _owner()
    done = 0
    while batch := outbox.claim(owner):
        for d in batch:
            alert = d.kind in ("webhook", "command")
            attempt = with_retries(
                lambda d=d: send(d, backends, alerts),  # type: ignore[misc]
                tries=alerts.tries if alert else 1,
                backoff=BACKOFF,
            )
            outbox.finish(d.id or 0, attempt.ok, attempt.tries, attempt.reason)
            if not attempt.ok:
                log.warning(
                    "bridge: could not publish %s to %s for %s: %s",
                    d.kind,
                    d.destination,
                    d.workflow,
                    attempt.reason,
                )
            done += 1
    return done


def _run(store: Store, backends: Backends) -> None:
    try:
        drain(store, backends)
    except Exception as exc:  # never let the sender's own trouble reach the run
        log.warning("bridge: the publishing sender stopped: %s", exc)


def kick(store: Store, backends: Backends) -> threading.Thread:
    """Start a sender thread for what is waiting in ``store``'s outbox (its own backends: its own HTTP
    sessions, no prompt)."""
    global _registered
    own = Backends(backends.catalog, backends.creds, backends.url, backends.url_for, None, backends.env)
    thread = threading.Thread(target=_run, args=(store, own), name="bridge-publish", daemon=True)
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
        if not _registered:
            atexit.register(flush, EXIT_WAIT)
            _registered = True
    thread.start()
    return thread


def flush(timeout: float = EXIT_WAIT) -> bool:
    """Wait for the sender threads, ``timeout`` seconds in all; True when every one finished."""
    import time

    deadline = time.monotonic() + timeout
    with _lock:
        threads = list(_threads)
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return not any(t.is_alive() for t in threads)
