"""CLI commands: tokens and demo data, the background processes, queues and local tools."""

import signal
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from torium_api import auth

seed = AppGroup("seed", help="Load data for local use.")
outbox_cli = AppGroup("outbox", help="The transactional outbox.")
worker_cli = AppGroup("worker", help="The SQS consumer and scheduler.")
queues_cli = AppGroup("queues", help="The SQS queues.")
notifications_cli = AppGroup("notifications", help="Notification delivery.")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


@click.command("dev-token")
@click.argument("email")
@click.option("--group", "groups", multiple=True, type=click.Choice(auth.ROLES), help="A Cognito group (role).")
@click.option("--ttl", default=12 * 3600, show_default=True, help="Lifetime in seconds.")
def dev_token(email: str, groups: tuple[str, ...], ttl: int) -> None:
    """Print a bearer token for EMAIL signed by the local issuer (only without a Cognito pool)."""
    click.echo(auth.mint_local_token(email, groups, ttl=ttl))


@seed.command("demo")
def seed_demo() -> None:
    """Demo users (demo@torium.local and two friends)."""
    from torium_api.demo import seed_demo_data

    seed_demo_data()
    click.echo("demo data ready: demo@torium.local")


@seed.command("bench")
@click.option("--users", default=1000, show_default=True)
@click.option("--groups", default=200, show_default=True)
@click.option("--members-per-group", default=20, show_default=True)
@click.option("--events-per-group", default=10, show_default=True)
@click.option("--products", default=100_000, show_default=True)
def seed_bench(users: int, groups: int, members_per_group: int, events_per_group: int, products: int) -> None:
    """Bulk data for the load benchmark; prints a token for the user in the most groups on the last line."""
    from torium_api.bench_seed import seed

    email = seed(users, groups, members_per_group, events_per_group, products)
    click.echo(f"seeded {users} users, {groups} groups, {products} products; token for {email}:")
    click.echo(auth.mint_local_token(email, ttl=3600))


@outbox_cli.command("relay")
@click.option("--once", is_flag=True, help="One pass, then exit.")
def relay_command(once: bool) -> None:
    """Publish committed outbox messages to SQS (long-running; safe to run on every instance)."""
    from torium_api.outbox import relay

    if once:
        click.echo(f"published {relay.relay_batch()}")
        return
    stop = _stop_on_signals()
    relay.run(stop.is_set)


@worker_cli.command("run")
@click.option("--once", is_flag=True, help="Run due jobs, drain the queues once, then exit.")
def worker_command(once: bool) -> None:
    """Consume the queues and run periodic jobs (long-running; SIGTERM finishes the current message)."""
    from torium_api.workers import runner

    app = current_app._get_current_object()
    if once:
        click.echo(f"handled {runner.drain_once(app)}")
        return
    runner.run(app, _stop_on_signals())


@queues_cli.command("create")
def queues_create() -> None:
    """Create the queues and their dead-letter queues at the configured endpoint (idempotent)."""
    from torium_api import queues

    for url in queues.create_all():
        click.echo(url)


@queues_cli.command("depth")
def queues_depth() -> None:
    """Messages waiting, in flight and dead-lettered, per queue."""
    from torium_api import queues

    for row in queues.depths():
        click.echo(f"{row['queue']}\tvisible={row['visible']}\tin_flight={row['in_flight']}\tdead={row['dead']}")


@queues_cli.command("dlq")
@click.argument("queue", type=click.Choice(["notifications", "domain-events", "orders"]))
@click.option("--limit", default=10, show_default=True)
def queues_dlq(queue: str, limit: int) -> None:
    """Show dead-lettered messages of QUEUE (one JSON object a line; nothing is consumed)."""
    import json

    from torium_api import queues

    for message in queues.peek_dead(queues.BY_KEY[queue], limit):
        click.echo(json.dumps(message))


@queues_cli.command("redrive")
@click.argument("queue", type=click.Choice(["notifications", "domain-events", "orders"]))
@click.option("--limit", default=1000, show_default=True)
def queues_redrive(queue: str, limit: int) -> None:
    """Move QUEUE's dead-lettered messages back to it (fix the cause first)."""
    from torium_api import queues

    click.echo(f"redrove {queues.redrive(queues.BY_KEY[queue], limit)}")


@notifications_cli.command("sent")
def notifications_sent() -> None:
    """List the SMS, e-mails and pushes the local AWS endpoint received (make run only)."""
    from torium_api.local_aws import sent_notifications

    endpoint = current_app.config["AWS_ENDPOINT_URL"]
    if not endpoint:
        raise click.ClickException("no local AWS endpoint: this lists what `make run`'s moto server received")
    for item in sent_notifications(endpoint):
        click.echo(f"{item['channel']}\t{item['recipient']}\t{item['text']}")


def register(app: Flask) -> None:
    for command in (dev_token, seed, outbox_cli, worker_cli, queues_cli, notifications_cli):
        app.cli.add_command(command)
