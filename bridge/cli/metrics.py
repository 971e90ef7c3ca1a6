"""`bridge metrics`: the Prometheus metrics of the history store, printed or written as a textfile."""

from __future__ import annotations

from pathlib import Path

import click

from bridge.console.click_kit import handle_errors


@click.command("metrics")
@click.option(
    "--textfile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write them to this file atomically (node_exporter's textfile collector), instead of stdout.",
)
@handle_errors
def metrics(textfile: Path | None) -> None:
    """The metrics the dashboard serves at /metrics (Prometheus text format), read from the history
    store now: for setups that run only the CLI (a cron line after the shadows)."""
    import sys

    from bridge import config
    from bridge.metrics import exposition, write_textfile
    from bridge.store import Store

    catalog = config.load()
    store = Store(catalog.store_url)
    if textfile is None:
        sys.stdout.buffer.write(exposition(store, catalog))
        return
    try:
        written = write_textfile(store, textfile, catalog)
    except OSError as exc:
        from bridge.errors import UsageError

        raise UsageError(f"cannot write the metrics textfile {textfile}: {exc.strerror or exc}") from exc
    click.echo(f"wrote {written}")
