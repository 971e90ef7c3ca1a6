"""`bridge seed`: deterministic, realistic data for the sources."""

from __future__ import annotations

import click

from bridge.console.click_kit import handle_errors

MAX_ROWS = 10_000_000  # a bound checked before anything is emptied: more is a typo, not a dev data set


@click.group()
def seed() -> None:
    """Fill the sources with deterministic, realistic data."""


@seed.command("products")
@click.option("--rows", default=500, show_default=True, type=click.IntRange(1, MAX_ROWS))
@click.option("--seed", "seed_value", default=1, show_default=True, type=int)
@click.option("--url", help="Source URL (default BRIDGE_SOURCE_URL or the local MariaDB).")
@click.option(
    "--i-own-this-database",
    "i_own_this_database",
    is_flag=True,
    help="Drop and reseed its tables even if the bridge did not create the database (no bridge_owned marker).",
)
@handle_errors
def seed_products_cmd(rows: int, seed_value: int, url: str | None, i_own_this_database: bool) -> None:
    """The products catalogue of scenario 1 (categories, products, promotions, some dirty rows).
    Drops and recreates those tables: only in a database the bridge created."""
    from bridge import console

    console.seed_products(rows, seed_value, url, i_own_this_database=i_own_this_database)


@seed.command("etl")
@click.option("--rows", default=10000, show_default=True, type=click.IntRange(0, MAX_ROWS), help="Products.")
@click.option("--orders", type=click.IntRange(0, MAX_ROWS), help="Orders (default: as many as products).")
@click.option("--seed", "seed_value", default=1, show_default=True, type=int)
@click.option("--url", help="Source URL (default BRIDGE_SOURCE_URL or the local MariaDB).")
@click.option(
    "--i-own-this-database",
    "i_own_this_database",
    is_flag=True,
    help="Drop and reseed its tables even if the bridge did not create the database (no bridge_owned marker).",
)
@handle_errors
def seed_etl_cmd(
    rows: int, orders: int | None, seed_value: int, url: str | None, i_own_this_database: bool
) -> None:
    """Scenario 3's source: products, categories, promotions, orders and order items.
    Drops and recreates those tables: only in a database the bridge created."""
    from bridge import console

    console.seed_etl(rows, seed_value, orders, url, i_own_this_database=i_own_this_database)


@seed.command("queue")
@click.argument("broker", type=click.Choice(["rabbitmq", "sqs"]))
@click.option("--count", default=1000, show_default=True, type=click.IntRange(0, MAX_ROWS))
@click.option("--seed", "seed_value", default=1, show_default=True, type=int)
@click.option(
    "--target",
    "targets",
    multiple=True,
    help="A target whose queue gets every message; repeat for a shadow (default: warehouse).",
)
@click.option("--stream", default="orders", show_default=True, help="The stream (exchange / queue prefix).")
@click.option(
    "--poison", default=0, show_default=True, type=click.IntRange(0), help="Messages that always fail."
)
@click.option(
    "--malformed", default=0, show_default=True, type=click.IntRange(0), help="Messages that are not JSON."
)
@handle_errors
def seed_queue_cmd(
    broker: str,
    count: int,
    seed_value: int,
    targets: tuple[str, ...],
    stream: str,
    poison: int,
    malformed: int,
) -> None:
    """Scenario 2's order events, published to RabbitMQ (fanout) or SQS (tee) for each target."""
    from bridge import console

    console.seed_queue(broker, count, seed_value, targets, stream, poison, malformed)
