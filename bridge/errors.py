"""The bridge's one exception tree.

    BridgeError                      every error the bridge raises on purpose
    ├── UsageError                   bad input from the user (exit 2)
    │   ├── ConfigError              bridge.toml or an environment override is wrong
    │   ├── UnknownWorkflowError     a dag id / deployment nobody knows (suggests near names)
    │   └── PausedWorkflowError      the DAG is paused: a run would never start (--unpause) (exit 2)
    ├── BackendError                 an orchestrator answered with an error (carries status + message) (exit 1)
    │   ├── RejectedError            it refused the request as invalid (400, 422: a conf, a param) (exit 2)
    │   ├── BackendUnavailableError  cannot reach it (connection refused, 5xx after retries) (exit 3)
    │   │   └── NotStartingError     it answers, but a new run cannot start (no live worker...) (exit 3)
    │   ├── AuthenticationError      wrong user or password, token refused (exit 3)
    │   └── NotFoundError            the server says 404 (exit 2)
    ├── DatabaseError                a database whose tables the bridge compares or fills failed a query (exit 1)
    │   └── DatabaseUnavailableError cannot reach it (or the dev data's broker), connection lost (exit 3)
    ├── StoreError                   the shadow history store cannot be opened or written (exit 3)
    ├── RunFailedError               a run ended in a failed state (exit 1)
    ├── CalibrationRefusedError      calibration controls saw different inputs or did no work (exit 5)
    ├── WaitTimeoutError             a wait ran out; the run goes on (exit 6)
    ├── WaitInterruptedError         Ctrl-C during a wait; the run goes on (exit 130)
    ├── CheckFailedError             `bridge check`: a condition a shadow needs does not hold (exit 7)
    ├── GatesUnmetError              a cutover gate does not hold: nothing switched (exit 8)
    ├── MismatchError                a shadow comparison found differences (exit 4)
    │   └── ScheduleMismatchError    the two sides' next fire times differ (exit 1)
    └── StackError                   the local dev stack could not start, stop or is not healthy (exit 3)
        └── ServiceStartError        one service did not become healthy (names it, shows its log)

Every error carries ``exit_code`` so the thin CLIs map it without knowing the tree (and ``run``, the run
id it leaves behind, when there is one): exit codes come from these classes only (``bridge.console.common.guarded`` turns any of them into one line and its code).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "BackendError",
    "BackendUnavailableError",
    "BridgeError",
    "CalibrationRefusedError",
    "CheckFailedError",
    "ConfigError",
    "DatabaseError",
    "DatabaseUnavailableError",
    "GatesUnmetError",
    "MismatchError",
    "NotFoundError",
    "NotStartingError",
    "PausedWorkflowError",
    "RejectedError",
    "RunFailedError",
    "ScheduleMismatchError",
    "ServiceStartError",
    "StackError",
    "StoreError",
    "UnknownWorkflowError",
    "UsageError",
    "WaitInterruptedError",
    "WaitTimeoutError",
]


class BridgeError(Exception):
    """Root of every error the bridge raises on purpose."""

    exit_code: int = 1
    run: str | None = None  # the run this error leaves behind (pasteable: airflow:DAG/RUN), if any
    details: dict[str, Any] | None = None  # more for --json's error object (what was listed before)
    printed: bool = False  # --json already printed an object holding this error and its exit code

    def about(self, run: str | None = None, **details: Any) -> BridgeError:
        """This error, naming the run it leaves behind and any details --json's error object carries."""
        self.run = run or self.run
        self.details = {**(self.details or {}), **details}
        return self


class UsageError(BridgeError):
    """Bad input from the user: a flag, a conf, a run id, a table or column that does not exist."""

    exit_code = 2


class ConfigError(UsageError):
    """bridge.toml or an environment override is invalid."""


class UnknownWorkflowError(UsageError):
    """A dag id or deployment nobody knows; the message suggests near names."""

    def __init__(self, workflow_id: str, known: list[str] | tuple[str, ...] = ()) -> None:
        import difflib

        self.workflow_id = workflow_id
        self.suggestions = difflib.get_close_matches(workflow_id, list(known), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown workflow {workflow_id!r}.{hint} Run with --list to see them all.")


class PausedWorkflowError(UsageError):
    """The workflow is paused where it would run, so a new run would sit queued until someone unpauses it."""


class _Located(BridgeError):
    """An error from a system the bridge talks to: ``backend`` names the side (``airflow``, ``prefect``),
    ``status`` is the HTTP status when there was one, ``reason`` the server's own words in one line. Not
    raised itself."""

    def __init__(
        self, message: str, *, backend: str = "", status: int | None = None, reason: str | None = None
    ) -> None:
        self.backend = backend
        self.status = status
        self.reason = message if reason is None else reason  # the server's own words, condensed
        super().__init__(message)


class BackendError(_Located):
    """An orchestrator answered with an error."""

    exit_code = 1


class RejectedError(BackendError):
    """An orchestrator refused the request as invalid (400, 422): a conf against the DAG's params schema,
    parameters the flow does not take. The message condenses the server's reason."""

    exit_code = 2


class BackendUnavailableError(BackendError):
    """An orchestrator cannot be reached: connection refused, 5xx after retries."""

    exit_code = 3


class NotStartingError(BackendUnavailableError):
    """An orchestrator answers, but a new run could not start now: no live worker polls the work pool, the
    pool is paused, the scheduler is down. Raised before triggering when the caller would wait."""


class AuthenticationError(BackendError):
    """An orchestrator refused the user, the password or the token."""

    exit_code = 3


class NotFoundError(BackendError):
    """An orchestrator says 404: no such run, DAG or deployment."""

    exit_code = 2


class DatabaseError(_Located):
    """A database whose tables the bridge compares (or fills with dev data) failed a query."""

    exit_code = 1


class DatabaseUnavailableError(DatabaseError):
    """A database (or the broker the dev data is published to) cannot be reached, or the connection was
    lost mid-query."""

    exit_code = 3


class StoreError(BridgeError):
    """The shadow history store (SQLAlchemy URL from bridge.toml, else SQLite) cannot be opened or written."""

    exit_code = 3


class RunFailedError(BridgeError):
    """A run ended in a failed state; what it did was printed before this is raised."""

    exit_code = 1


class CalibrationRefusedError(BridgeError):
    """Calibration would measure nothing: its control runs saw different inputs, or did no work. No noise
    is recorded."""

    exit_code = 5


class WaitTimeoutError(BridgeError):
    """A wait ran out; the run goes on (its id is in the message and in ``run``)."""

    exit_code = 6


class WaitInterruptedError(BridgeError):
    """Ctrl-C during a wait: the run goes on; the message says how to follow it."""

    exit_code = 130


class CheckFailedError(BridgeError):
    """`bridge check` found a condition a shadow run needs that does not hold (exit 7: the command ran and
    the catalog parsed; what it checked is not ready, each failure with its fix on its own line)."""

    exit_code = 7


class GatesUnmetError(BridgeError):
    """A cutover gate does not hold (`bridge gates`, `bridge cutover` without --force): nothing was
    switched; each unmet gate is listed with its evidence (exit 8)."""

    exit_code = 8


class MismatchError(BridgeError):
    """A shadow comparison found differences (raised only when the caller asked to fail on them)."""

    exit_code = 4


class ScheduleMismatchError(MismatchError):
    """The two sides' next fire times differ (``bridge parity``)."""

    exit_code = 1


class StackError(BridgeError):
    """The local dev stack could not start or stop, or is not healthy."""

    exit_code = 3


class ServiceStartError(StackError):
    """One service of the local stack did not become healthy: names it, shows its log's last lines."""

    def __init__(self, service: str, reason: str, log_path: str = "", tail: str = "") -> None:
        self.service = service
        self.log_path = log_path
        self.tail = tail
        text = f"{service} did not start: {reason}"
        if log_path:
            text += f" (log: {log_path})"
        if tail:
            text += "\n--- last lines of the log ---\n" + tail
        super().__init__(text)
