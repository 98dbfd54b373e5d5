"""The long-running worker: one consumer loop per queue plus the scheduler tick.

Each received batch (≤ 10 messages) is handled by a small thread pool, one app context
and one transaction per message; messages of one FIFO group stay in order (one task per
group). Handled messages are deleted in one batch call. SIGTERM/SIGINT set a flag: each
loop finishes the messages in hand, gives unstarted ones back to SQS (visibility 0)
and exits; nothing is lost.
"""

import logging
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from torium_api import queues
from torium_api.workers import GIVE_UP, HANDLERS, PERIODIC_JOBS, consumer, scheduler

log = logging.getLogger(__name__)
DELETABLE = {"processed", "duplicate"}


def _handle_in_order(app: Flask, queue, messages: list[dict], stop: threading.Event) -> tuple[list, list]:
    """Handle messages one after another; returns (deletable, not started)."""
    done = []
    for index, message in enumerate(messages):
        if stop.is_set():
            return done, messages[index:]
        with app.app_context():  # a fresh session per message
            if consumer.handle(queue, message, HANDLERS, GIVE_UP) in DELETABLE:
                done.append(message)
    return done, []


def _lanes(queue: queues.Queue, messages: list[dict]) -> list[list[dict]]:
    """Independent units of work: one per message, or one per message group on a FIFO queue."""
    if not queue.fifo:
        return [[m] for m in messages]
    groups = defaultdict(list)
    for message in messages:
        groups[message.get("Attributes", {}).get("MessageGroupId")].append(message)
    return list(groups.values())


def consume(app: Flask, queue: queues.Queue, stop: threading.Event, wait_seconds: int, drain: bool = False,
            concurrency: int | None = None) -> int:
    """Receive and handle messages until stopped (or, with ``drain``, until the queue is empty)."""
    handled = 0
    concurrency = concurrency or app.config["WORKER_CONCURRENCY"]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"handler-{queue.key}") as pool:
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
            results = list(pool.map(lambda lane: _handle_in_order(app, queue, lane, stop), _lanes(queue, messages)))
            deletable = [m for done, _ in results for m in done]
            unstarted = [m for _, rest in results for m in rest]
            with app.app_context():
                consumer.delete(queue, deletable)
                if unstarted:
                    consumer.release(queue, unstarted)
            handled += len(messages) - len(unstarted)
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
