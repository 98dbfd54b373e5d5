"""The development area: everything that exists only when ``TORIUM_ENV=development``.

- ``stack.py`` (``make run``, ``python -m torium_api.dev``): an embedded PostgreSQL, a local AWS endpoint,
  migrations, demo data, a relay and a worker, then the API;
- ``embedded_pg.py``: the ``pgserver`` wheel's PostgreSQL when ``DATABASE_URL`` is unset;
- ``local_aws.py``: a moto server on loopback and what the app expects to exist in it;
- ``local_issuer.py``: the RSA key that signs development tokens when no Cognito pool is configured;
- ``demo.py``: demo users and a small catalogue;
- ``init_app`` (called by ``create_app`` in development only) registers the development CLI commands.

Nothing outside this package imports moto or pgserver (development dependencies, not in requirements.txt).
"""

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from torium_api.actor import AppRole


def database_url(app_config: dict) -> str:
    """The embedded PostgreSQL's URL (started on first use, reused by later runs)."""
    from torium_api.dev.embedded_pg import database_url as embedded

    return embedded(app_config["EMBEDDED_PG_DIR"])


@click.command("dev-token")
@click.argument("email")
@click.option("--group", "groups", multiple=True, type=click.Choice([r.value for r in AppRole]),
              help="A Cognito group (role).")
@click.option("--ttl", default=12 * 3600, show_default=True, help="Lifetime in seconds.")
def dev_token(email: str, groups: tuple[str, ...], ttl: int) -> None:
    """Print a bearer token for EMAIL signed by the local issuer (only without a Cognito pool)."""
    from torium_api.dev.local_issuer import mint_local_token

    click.echo(mint_local_token(email, groups, ttl=ttl))


seed = AppGroup("seed", help="Load data for local use.")


@seed.command("demo")
def seed_demo() -> None:
    """Demo users (demo@torium.local and friends) and the demo catalogue."""
    from torium_api.database import transaction
    from torium_api.dev.demo import seed_demo_data

    with transaction():
        seed_demo_data()
    click.echo("demo data ready: demo@torium.local")


notifications_cli = AppGroup("notifications", help="Notification delivery (the local AWS endpoint).")


@notifications_cli.command("sent")
def notifications_sent() -> None:
    """List the SMS, e-mails and pushes the local AWS endpoint received (make run only)."""
    from torium_api.dev.local_aws import sent_notifications

    endpoint = current_app.config["AWS_ENDPOINT_URL"]
    if not endpoint:
        raise click.ClickException("no local AWS endpoint: this lists what `make run`'s moto server received")
    for item in sent_notifications(endpoint):
        click.echo(f"{item['channel']}\t{item['recipient']}\t{item['text']}")


def init_app(app: Flask) -> None:
    for command in (dev_token, seed, notifications_cli):
        app.cli.add_command(command)
