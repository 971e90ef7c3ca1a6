"""``[publish]``, ``[alerts]`` and ``[metrics]`` of bridge.toml, typed and checked.

bridge.config checks the keys and their types (unknown keys are errors there); this module checks the
values: an event name that does not exist, a webhook with no URL, a command with no argv, a textfile
path. A webhook URL may hold a secret (a Slack webhook does): ``url_env`` names the environment variable
that holds it, read when it is sent, never printed (deliveries name the webhook, not its URL).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.config import Catalog
from bridge.errors import ConfigError

DEFAULT_DASHBOARD_URL = "http://127.0.0.1:8790"
#: What an alert fires on: three verdicts, an evidence gate turning red, any stage change.
EVENTS = ("mismatch", "shadow_failed", "missing", "gate_red", "stage_change")
ALERT_VERDICTS = ("mismatch", "shadow_failed", "missing")


@dataclass(frozen=True)
class PublishSettings:
    """Where a verdict shows besides the store: each on unless turned off."""

    airflow_note: bool = True
    prefect_artifact: bool = True
    prefect_event: bool = True
    dashboard_url: str = DEFAULT_DASHBOARD_URL

    def comparison_url(self, comparison_id: int | None) -> str:
        """The dashboard's page of one comparison."""
        return f"{self.dashboard_url.rstrip('/')}/comparisons/{comparison_id if comparison_id is not None else ''}"


@dataclass(frozen=True)
class Destination:
    """One alert receiver: a ``webhook`` (JSON POST) or a ``command`` (argv, the event on stdin)."""

    kind: str
    name: str
    on: tuple[str, ...] = EVENTS
    url: str | None = field(default=None, repr=False)
    url_env: str | None = None
    argv: tuple[str, ...] = ()

    def wants(self, event: str) -> bool:
        return event in self.on

    def resolved_url(self, env: Mapping[str, str] | None = None) -> str:
        """The webhook's URL (from ``url_env`` when set); ConfigError when the variable is unset."""
        env = os.environ if env is None else env
        if self.url_env:
            if not env.get(self.url_env):
                raise ConfigError(
                    f"webhook {self.name!r}: the environment variable {self.url_env} is not set"
                )
            return env[self.url_env]
        return self.url or ""


@dataclass(frozen=True)
class AlertSettings:
    """``timeout``: seconds for one try (an HTTP request, a command); ``tries`` per delivery."""

    destinations: tuple[Destination, ...] = ()
    timeout: float = 5.0
    tries: int = 3

    def for_event(self, event: str) -> list[Destination]:
        return [d for d in self.destinations if d.wants(event)]


@dataclass(frozen=True)
class MetricsSettings:
    """``textfile``: a Prometheus textfile-collector file rewritten after each comparison (None: not);
    ``window``: how many of each workflow's newest comparisons the consistency ratio counts. A relative
    ``textfile`` is taken from bridge.toml's folder."""

    textfile: Path | None = None
    window: int = 20


def _on(raw: Mapping[str, Any], where: str, default: tuple[str, ...] = EVENTS) -> tuple[str, ...]:
    events = tuple(str(e) for e in raw.get("on", default))
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise ConfigError(f"{where}.on: unknown event(s) {', '.join(unknown)}; use {', '.join(EVENTS)}")
    return events


def publish_settings(catalog: Catalog) -> PublishSettings:
    raw = catalog.sections.get("publish", {})
    base = PublishSettings()
    url = str(raw.get("dashboard_url", base.dashboard_url))
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"publish.dashboard_url must be an http(s) URL, not {url!r}")
    return PublishSettings(
        airflow_note=bool(raw.get("airflow_note", True)),
        prefect_artifact=bool(raw.get("prefect_artifact", True)),
        prefect_event=bool(raw.get("prefect_event", True)),
        dashboard_url=url,
    )


def alert_settings(catalog: Catalog) -> AlertSettings:
    raw = catalog.sections.get("alerts", {})
    on = _on(raw, "alerts")
    out: list[Destination] = []
    for i, hook in enumerate(raw.get("webhooks", [])):
        where = f"alerts.webhooks[{i}]"
        if bool(hook.get("url")) == bool(hook.get("url_env")):
            raise ConfigError(f"{where}: give exactly one of `url` and `url_env` (the variable holding it)")
        if hook.get("url") and not str(hook["url"]).startswith(("http://", "https://")):
            raise ConfigError(f"{where}.url must be an http(s) URL")
        name = str(hook.get("name") or f"webhook-{i + 1}")
        out.append(Destination("webhook", name, _on(hook, where, on), hook.get("url"), hook.get("url_env")))
    for i, cmd in enumerate(raw.get("commands", [])):
        where = f"alerts.commands[{i}]"
        argv = cmd.get("argv") or []
        if not argv or not all(isinstance(a, str) and a for a in argv):
            raise ConfigError(
                f"{where}.argv must be a non-empty list of strings (the program, its arguments)"
            )
        name = str(cmd.get("name") or Path(argv[0]).name)
        out.append(Destination("command", name, _on(cmd, where, on), argv=tuple(argv)))
    timeout = float(raw.get("timeout", 5.0))
    tries = int(raw.get("tries", 3))
    if not 0 < timeout <= 60:
        raise ConfigError(f"alerts.timeout must be in (0, 60] seconds, not {timeout}")
    if not 1 <= tries <= 10:
        raise ConfigError(f"alerts.tries must be between 1 and 10, not {tries}")
    names = [d.name for d in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"alerts: two receivers share a name ({', '.join(names)}); name each")
    return AlertSettings(tuple(out), timeout, tries)


def metrics_settings(catalog: Catalog) -> MetricsSettings:
    raw = catalog.sections.get("metrics", {})
    window = int(raw.get("window", 20))
    if window < 1:
        raise ConfigError(f"metrics.window must be at least 1, not {window}")
    textfile = raw.get("textfile")
    path = None
    if textfile:
        path = Path(textfile)
        base = catalog.path.parent if catalog.path is not None else Path.cwd()
        path = path if path.is_absolute() else base / path
    return MetricsSettings(path, window)
