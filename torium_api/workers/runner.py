"""The long-running worker: one consumer loop per queue plus the scheduler tick, each supervised.

Each received batch (≤ 10 messages) is handled by a small thread pool, one app context
and one transaction per message; messages of one FIFO group stay in order (one task per
group). Handled messages are deleted in one batch call. SIGTERM/SIGINT set a flag: each
loop finishes the messages in hand, gives unstarted ones back to SQS (visibility 0)
and exits; nothing is lost.

Every step (receive, parse, handle, delete, release, dead-letter, the scheduler's tick)
survives its errors: the loop logs the step, backs off and carries on
(``monitoring/supervision.py``). A loop that makes no progress for ``WORKER_STALL_SECONDS``,
or a loop that dies anyway, stops the whole process with a non-zero exit code so that
Elastic Beanstalk restarts it.
"""

import logging
import os
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from torium_api import queues
from torium_api.monitoring.heartbeats import Pulse
from torium_api.monitoring.supervision import EXIT_STALLED, Stalled, StepFailed, Supervisor, Watchdog, flush_output
from torium_api.workers import GIVE_UP, HANDLERS, PERIODIC_JOBS, consumer, scheduler

log = logging.getLogger(__name__)
DELETABLE = {"processed", "duplicate"}
ORDER_KEEPING = DELETABLE | {"dead-lettered"}  # a FIFO lane goes on after these; after others it stops


def _handle_one(app: Flask, queue, message: dict, supervisor: Supervisor) -> str:
    with app.app_context():  # a fresh session per message
        try:
            return consumer.handle(queue, message, HANDLERS, GIVE_UP)
        except StepFailed as exc:
            supervisor.report(exc.step, exc.__cause__ or exc)
        except Exception as exc:
            supervisor.report("handle", exc)
        consumer.retry_later(queue, message)  # never raises
        return "error"


def _handle_in_order(app: Flask, queue, messages: list[dict], stop: threading.Event,
                     supervisor: Supervisor) -> tuple[list, list, int]:
    """Handle a lane's messages one after another; returns (deletable, not started, errors)."""
    done, errors = [], 0
    for index, message in enumerate(messages):
        if stop.is_set():
            return done, messages[index:], errors
        outcome = _handle_one(app, queue, message, supervisor)
        if outcome in DELETABLE:
            done.append(message)
        errors += outcome == "error"
        if queue.fifo and outcome not in ORDER_KEEPING:  # later messages of the group must not overtake it
            return done, messages[index + 1:], errors
    return done, [], errors


def _lanes(queue: queues.Queue, messages: list[dict]) -> list[list[dict]]:
    """Independent units of work: one per message, or one per message group on a FIFO queue."""
    if not queue.fifo:
        return [[m] for m in messages]
    groups = defaultdict(list)
    for message in messages:
        groups[message.get("Attributes", {}).get("MessageGroupId")].append(message)
    return list(groups.values())


class _ConsumerLoop:
    """One queue's loop state: its supervisor and the deletes still owed to SQS."""

    def __init__(self, app: Flask, queue, stop: threading.Event, supervisor: Supervisor):
        self.app, self.queue, self.stop, self.supervisor = app, queue, stop, supervisor
        self.pending_deletes: list[dict] = []

    def attempt(self, step: str, fn, *args):
        """(True, result), or (False, None) after logging and backing off; ``Stalled`` past the deadline."""
        try:
            with self.app.app_context():
                return True, fn(*args)
        except Exception as exc:
            self.stop.wait(self.supervisor.failed(step, exc))
            return False, None

    def flush_deletes(self) -> bool:
        if not self.pending_deletes:
            return True
        ok, _ = self.attempt("delete", consumer.delete, self.queue, self.pending_deletes)
        if ok:
            self.pending_deletes = []
        return ok

    def handle_batch(self, pool: ThreadPoolExecutor, messages: list[dict]) -> int:
        lanes = _lanes(self.queue, messages)
        results = list(pool.map(lambda lane: _handle_in_order(self.app, self.queue, lane, self.stop,
                                                              self.supervisor), lanes))
        self.pending_deletes += [m for done, _, _ in results for m in done]
        unstarted = [m for _, rest, _ in results for m in rest]
        errors = sum(e for _, _, e in results)
        started = len(messages) - len(unstarted)
        flushed = self.flush_deletes()
        if unstarted:
            self.attempt("release", consumer.release, self.queue, unstarted)
        if flushed and (errors < started or not started):
            self.supervisor.progress()
        elif flushed:  # every message failed to run (the database is down?): back off before receiving more
            self.stop.wait(self.supervisor.setback("handle"))
        return started


def consume(app: Flask, queue: queues.Queue, stop: threading.Event, wait_seconds: int, drain: bool = False,
            concurrency: int | None = None, stall_seconds: float | None = None,
            supervisor: Supervisor | None = None) -> int:
    """Receive and handle messages until stopped (or, with ``drain``, until the queue is empty).

    Raises ``Stalled`` when the loop made no progress for ``stall_seconds`` (default WORKER_STALL_SECONDS).
    """
    concurrency = concurrency or app.config["WORKER_CONCURRENCY"]
    supervisor = supervisor or Supervisor.for_app(app, f"consumer:{queue.key}", stall_seconds=stall_seconds,
                                                  context={"queue": queue.key})
    loop, handled = _ConsumerLoop(app, queue, stop, supervisor), 0
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"handler-{queue.key}") as pool:
        while not stop.is_set():
            if not loop.flush_deletes():
                continue
            ok, messages = loop.attempt("receive", consumer.receive, queue, wait_seconds)
            if not ok:
                continue
            if not messages and drain:
                break
            handled += loop.handle_batch(pool, messages)
    if loop.pending_deletes:  # stopping: one last try; what stays undeleted is redelivered and found done
        loop.attempt("delete", consumer.delete, queue, loop.pending_deletes)
    return handled


def _schedule(app: Flask, stop: threading.Event, supervisor: Supervisor, interval: float) -> None:
    """The scheduler tick every ``interval`` seconds; a failing tick (the database down) backs off."""
    while not stop.is_set():
        try:
            with app.app_context():
                scheduler.tick(PERIODIC_JOBS)
        except Exception as exc:
            stop.wait(min(supervisor.failed("tick", exc), interval))
            continue
        supervisor.progress()
        stop.wait(interval)


def _supervised(app: Flask, component: str, metric: str, report_backlog: bool = False,
                context: dict | None = None) -> Supervisor:
    return Supervisor.for_app(app, component, pulse=Pulse(app, component, metric, report_backlog=report_backlog),
                              context=context)


def run(app: Flask, stop: threading.Event, hard_exit=os._exit) -> int:
    """Run every consumer and the scheduler until ``stop``. Returns the exit code: 0, or EXIT_STALLED."""
    config, fatal = app.config, threading.Event()
    consumers = {q.key: _supervised(app, f"consumer:{q.key}", "consumer", context={"queue": q.key})
                 for q in queues.ALL}
    ticker = _supervised(app, "scheduler", "scheduler", report_backlog=True)

    def give_up_on_the_process(what: str, exc: BaseException | None = None) -> None:
        log.critical("%s; stopping the worker so that it is restarted", what, exc_info=exc)
        fatal.set()
        stop.set()

    def consumer_thread(queue):
        try:
            consume(app, queue, stop, config["WORKER_WAIT_SECONDS"], supervisor=consumers[queue.key])
        except Stalled as exc:
            give_up_on_the_process(str(exc))
        except BaseException as exc:  # a bug the supervision did not catch: never a silently dead consumer
            give_up_on_the_process(f"the {queue.key} consumer died", exc)

    threads = [threading.Thread(target=consumer_thread, args=(q,), name=f"consumer-{q.key}", daemon=True)
               for q in queues.ALL]
    stall = config["WORKER_STALL_SECONDS"]
    watchdog = Watchdog([*consumers.values(), ticker], lambda: give_up_on_the_process("a loop is stuck"),
                        period=min(5.0, stall / 4), grace=min(30.0, stall), hard_exit=hard_exit)
    for thread in [*threads, watchdog]:
        thread.start()
    log.info("worker started", extra={"queues": [q.key for q in queues.ALL]})
    try:
        _schedule(app, stop, ticker, config["SCHEDULER_INTERVAL_SECONDS"])
    except Stalled as exc:
        give_up_on_the_process(str(exc))
    return _wind_down(threads, watchdog, fatal, config, hard_exit)


def _wind_down(threads, watchdog: Watchdog, fatal: threading.Event, config, hard_exit) -> int:
    watchdog.stop()  # from here on the joins' own deadline catches a loop stuck in a call
    patience = config["WORKER_WAIT_SECONDS"] + config["QUEUE_VISIBILITY_TIMEOUT"]
    deadline = time.monotonic() + patience  # a long poll, then a batch in hand
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0))
    if any(thread.is_alive() for thread in threads):  # stuck in a call: an orderly exit would wait forever
        log.critical("a consumer did not stop within %s s; exiting now", patience)
        flush_output()
        hard_exit(EXIT_STALLED)
    code = EXIT_STALLED if fatal.is_set() else 0
    log.log(logging.CRITICAL if code else logging.INFO, "worker stopped", extra={"exit_code": code})
    return code


def drain_once(app: Flask, wait_seconds: int = 1) -> int:
    """Run the scheduler once and handle everything currently queued (``flask worker run --once``)."""
    with app.app_context():
        scheduler.tick(PERIODIC_JOBS)
    never = threading.Event()
    return sum(consume(app, queue, never, wait_seconds=wait_seconds, drain=True) for queue in queues.ALL)
