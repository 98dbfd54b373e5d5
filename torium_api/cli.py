"""CLI commands of the shipped app: the background processes, the queues and the operator's status.

Development commands (tokens, demo data, what the local AWS endpoint received) are in ``dev/`` and exist
only when ``TORIUM_ENV=development``.
"""

import json
import logging
import signal
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from torium_api import queues

outbox_cli = AppGroup("outbox", help="The transactional outbox.")
worker_cli = AppGroup("worker", help="The SQS consumer and scheduler.")
queues_cli = AppGroup("queues", help="The SQS queues.")
organizations_cli = AppGroup("organizations", help="The organizations' reference data.")
ops_cli = AppGroup("ops", help="What an operator looks at: the background processes' health and backlogs.")
log = logging.getLogger(__name__)
QUEUE_KEYS = click.Choice([queue.key for queue in queues.ALL])


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


@outbox_cli.command("relay")
@click.option("--once", is_flag=True, help="One pass, then exit.")
def relay_command(once: bool) -> None:
    """Publish committed outbox messages to SQS (long-running; safe to run on every instance).

    Exits with code 3 when no pass has succeeded for WORKER_STALL_SECONDS, so that the platform restarts it.
    """
    from torium_api.monitoring.supervision import EXIT_STALLED, Stalled, Watchdog, flush_output
    from torium_api.outbox import relay

    if once:
        click.echo(f"published {relay.relay_batch()}")
        return
    app, stop, stuck = current_app._get_current_object(), _stop_on_signals(), threading.Event()
    supervisor = relay.relay_supervisor(app)
    stall = app.config["WORKER_STALL_SECONDS"]
    watchdog = Watchdog([supervisor], lambda: (stuck.set(), stop.set()), period=min(5.0, stall / 4),
                        grace=min(30.0, stall))
    watchdog.start()
    try:
        relay.run(stop, supervisor=supervisor)
    except Stalled as exc:
        log.critical("%s; exiting so that the relay is restarted", exc)
        stuck.set()
    finally:
        watchdog.stop()
    if stuck.is_set():
        flush_output()
        sys.exit(EXIT_STALLED)


@worker_cli.command("run")
@click.option("--once", is_flag=True, help="Run due jobs, drain the queues once, then exit.")
def worker_command(once: bool) -> None:
    """Consume the queues and run periodic jobs (long-running; SIGTERM finishes the current message).

    Exits with code 3 when a consumer or the scheduler stalls for WORKER_STALL_SECONDS (or dies), so that the
    platform restarts the whole process.
    """
    from torium_api.workers import runner

    app = current_app._get_current_object()
    if once:
        click.echo(f"handled {runner.drain_once(app)}")
        return
    code = runner.run(app, _stop_on_signals())
    if code:
        sys.exit(code)


@ops_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
def ops_status(as_json: bool) -> None:
    """Heartbeats of the relay, scheduler and consumers; the outbox backlog; DLQ depths; the last job runs."""
    from torium_api.monitoring import status

    report = status.collect()
    click.echo(json.dumps(report, indent=2, default=_json_value) if as_json else status.render(report))


def _json_value(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@queues_cli.command("create")
def queues_create() -> None:
    """Create the queues and their dead-letter queues at the configured endpoint (idempotent)."""
    for url in queues.create_all():
        click.echo(url)


@queues_cli.command("depth")
def queues_depth() -> None:
    """Messages waiting, in flight and dead-lettered, per queue."""
    for row in queues.depths():
        click.echo(f"{row['queue']}\tvisible={row['visible']}\tin_flight={row['in_flight']}\tdead={row['dead']}")


@queues_cli.command("dlq")
@click.argument("queue", type=QUEUE_KEYS)
@click.option("--limit", default=10, show_default=True)
def queues_dlq(queue: str, limit: int) -> None:
    """Show dead-lettered messages of QUEUE (one JSON object a line; nothing is consumed)."""
    for message in queues.peek_dead(queues.BY_KEY[queue], limit):
        click.echo(json.dumps(message))


@queues_cli.command("redrive")
@click.argument("queue", type=QUEUE_KEYS)
@click.option("--limit", default=1000, show_default=True)
def queues_redrive(queue: str, limit: int) -> None:
    """Move QUEUE's dead-lettered messages back to it (fix the cause first)."""
    click.echo(f"redrove {queues.redrive(queues.BY_KEY[queue], limit)}")


@organizations_cli.command("upload-logos")
def upload_logos() -> None:
    """Upload the seeded organizations' logos to ORGANIZATION_LOGO_BUCKET (once per environment; idempotent)."""
    from torium_api.organizations import services

    for key in services.upload_logos():
        click.echo(f"uploaded {key}")


def register(app: Flask) -> None:
    for command in (outbox_cli, worker_cli, queues_cli, organizations_cli, ops_cli):
        app.cli.add_command(command)
