"""The long-running worker: one consumer thread per queue plus the scheduler tick.

SIGTERM/SIGINT set a flag: each thread finishes the message in hand, gives the rest
of its batch back to SQS (visibility 0) and exits; nothing is lost.
"""

import logging
import threading

from flask import Flask

from torium_api import queues
from torium_api.workers import HANDLERS, PERIODIC_JOBS, consumer, scheduler

log = logging.getLogger(__name__)


def consume(app: Flask, queue: queues.Queue, stop: threading.Event, wait_seconds: int, drain: bool = False) -> int:
    """Receive and handle messages until stopped (or, with ``drain``, until the queue is empty)."""
    handled = 0
    while not stop.is_set():
        try:
            with app.app_context():
                messages = consumer.receive(queue, wait_seconds)
        except Exception:
            log.exception("receive failed", extra={"queue": queue.key})
            stop.wait(5)
            continue
        if not messages and drain:
            break
        for index, message in enumerate(messages):
            if stop.is_set():
                with app.app_context():
                    consumer.release(queue, messages[index:])
                break
            with app.app_context():  # a fresh session per message
                consumer.handle(queue, message, HANDLERS)
            handled += 1
    return handled


def run(app: Flask, stop: threading.Event) -> None:
    wait, interval = app.config["WORKER_WAIT_SECONDS"], app.config["SCHEDULER_INTERVAL_SECONDS"]
    threads = [threading.Thread(target=consume, args=(app, q, stop, wait), name=f"consumer-{q.key}", daemon=True)
               for q in queues.ALL]
    for thread in threads:
        thread.start()
    log.info("worker started", extra={"queues": [q.key for q in queues.ALL]})
    while not stop.is_set():
        with app.app_context():
            scheduler.tick(PERIODIC_JOBS)
        stop.wait(interval)
    for thread in threads:
        thread.join()
    log.info("worker stopped")


def drain_once(app: Flask, wait_seconds: int = 1) -> int:
    """Run the scheduler once and handle everything currently queued (``flask worker run --once``)."""
    with app.app_context():
        scheduler.tick(PERIODIC_JOBS)
    never = threading.Event()
    return sum(consume(app, queue, never, wait_seconds=wait_seconds, drain=True) for queue in queues.ALL)
