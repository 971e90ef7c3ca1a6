"""The bridge's one exception tree.

    BridgeError                      every error the bridge raises on purpose
    ├── UsageError                   bad input from the user (exit 2)
    │   ├── ConfigError              bridge.toml or an environment override is wrong
    │   └── UnknownWorkflowError     a dag id / deployment nobody knows (suggests near names)
    ├── BackendError                 an orchestrator answered with an error (carries status + message)
    │   ├── BackendUnavailableError  cannot reach it (connection refused, 5xx after retries) (exit 3)
    │   ├── AuthenticationError      wrong user or password, token refused (exit 3)
    │   └── NotFoundError            the server says 404
    ├── RunFailedError               a run ended in a failed state (exit 1)
    ├── WaitTimeoutError             a wait ran out; the run goes on (exit 1)
    ├── MismatchError                a shadow comparison found differences (exit 4)
    └── StackError                   the local dev stack could not start or stop
        └── ServiceStartError        one service did not become healthy (names it, shows its log)

Every error carries ``exit_code`` so the thin CLIs map it without knowing the tree.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BackendError",
    "BackendUnavailableError",
    "BridgeError",
    "ConfigError",
    "MismatchError",
    "NotFoundError",
    "RunFailedError",
    "ServiceStartError",
    "StackError",
    "UnknownWorkflowError",
    "UsageError",
    "WaitTimeoutError",
]


class BridgeError(Exception):
    """Root of every error the bridge raises on purpose."""

    exit_code: int = 1


class UsageError(BridgeError):
    exit_code = 2


class ConfigError(UsageError):
    """bridge.toml or an environment override is invalid."""


class UnknownWorkflowError(UsageError):
    def __init__(self, workflow_id: str, known: list[str] | tuple[str, ...] = ()) -> None:
        import difflib

        self.workflow_id = workflow_id
        self.suggestions = difflib.get_close_matches(workflow_id, list(known), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown workflow {workflow_id!r}.{hint} Run with --list to see them all.")


class BackendError(BridgeError):
    """An orchestrator answered with an error."""

    exit_code = 1

    def __init__(self, message: str, *, backend: str = "", status: int | None = None) -> None:
        self.backend = backend
        self.status = status
        super().__init__(message)


class BackendUnavailableError(BackendError):
    exit_code = 3


class AuthenticationError(BackendError):
    exit_code = 3


class NotFoundError(BackendError):
    exit_code = 2


class RunFailedError(BridgeError):
    exit_code = 1


class WaitTimeoutError(BridgeError):
    exit_code = 1


class MismatchError(BridgeError):
    exit_code = 4


class StackError(BridgeError):
    exit_code = 3


class ServiceStartError(StackError):
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
