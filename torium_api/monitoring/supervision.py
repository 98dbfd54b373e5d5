"""Keeping the background loops alive, and giving up loudly when they cannot make progress.

Each loop (a queue's consumer, the scheduler, the relay) owns a ``Supervisor``. A failing step (receive, parse,
handle, delete, release, dead-letter, tick, publish) is reported to it: it logs one line naming the step (with
a traceback at most once a minute per step while that step keeps failing), remembers the error for the loop's
heartbeat row, and says how long to back off (exponential, capped, jittered). A completed iteration is reported
as progress: that resets the backoff and beats the heartbeat.

When a loop has made no progress for ``stall_seconds`` (``WORKER_STALL_SECONDS``), the next failure raises
``Stalled``; the process entry points turn that into a non-zero exit, and Elastic Beanstalk restarts a Procfile
process that exits. A loop stuck inside a call (so it cannot fail either) is caught by the ``Watchdog`` thread.

Durations here are measured with ``time.monotonic`` (elapsed time, not the time of day: ``clock.now()`` is for
the time of day).
"""

import logging
import os
import random
import sys
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)
EXIT_STALLED = 3  # the process exit code when a loop stalled (0 is a requested stop)
TRACEBACK_EVERY_SECONDS = 60.0
BACKOFF_BASE_SECONDS = 0.5


class Stalled(Exception):
    """A loop made no progress for longer than its stall time: the process should exit and be restarted."""

    def __init__(self, component: str, seconds: float, step: str | None = None):
        super().__init__(f"{component} made no progress for {seconds:.0f} s" + (f" (failing: {step})" if step else ""))
        self.component, self.seconds, self.step = component, seconds, step


class StepFailed(Exception):
    """A named step of handling one message failed unexpectedly (the cause is chained)."""

    def __init__(self, step: str):
        super().__init__(step)
        self.step = step


def database_unavailable(exc: BaseException) -> bool:
    """The connection to PostgreSQL failed (not an error the server reported about a statement)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError) and getattr(exc.orig, "pgcode", None) is None


class Backoff:
    """Exponential backoff with a cap and jitter: the n-th consecutive failure waits about base * 2**(n-1)."""

    def __init__(self, cap: float, base: float = BACKOFF_BASE_SECONDS, rng: Callable[[], float] = random.random):
        self.cap, self.base, self.rng, self.failures = cap, min(base, cap), rng, 0

    def next(self) -> float:
        self.failures += 1
        delay = min(self.cap, self.base * 2 ** min(self.failures - 1, 30))
        return delay * (0.5 + self.rng() / 2)  # jitter: several instances failing together do not retry together

    def reset(self) -> None:
        self.failures = 0


class Supervisor:
    """One loop's health: its backoff, throttled tracebacks, the stall deadline and its heartbeat."""

    def __init__(self, component: str, *, stall_seconds: float, backoff_cap: float, pulse=None,
                 context: dict | None = None, monotonic: Callable[[], float] = time.monotonic):
        self.component, self.stall_seconds, self.pulse, self._now = component, stall_seconds, pulse, monotonic
        self.context = context or {}  # extra fields on every log line (a consumer's queue)
        self.backoff = Backoff(backoff_cap)
        self.last_progress = monotonic()
        self._attempts: dict[str, int] = {}
        self._last_traceback: dict[str, float] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_app(cls, app, component: str, *, stall_seconds: float | None = None, pulse=None,
                context: dict | None = None) -> "Supervisor":
        stall = stall_seconds if stall_seconds is not None else app.config["WORKER_STALL_SECONDS"]
        return cls(component, stall_seconds=stall, backoff_cap=app.config["WORKER_BACKOFF_MAX_SECONDS"], pulse=pulse,
                   context=context)

    def progress(self) -> None:
        """An iteration completed: reset the backoff and beat the heartbeat (at most every HEARTBEAT_SECONDS)."""
        with self._lock:
            self.last_progress = self._now()
            self._attempts.clear()
            self._last_traceback.clear()
            self.backoff.reset()
        if self.pulse is not None:
            self.pulse.beat()

    def report(self, step: str, exc: BaseException) -> None:
        """Log one line for a failed step (a traceback at most once a minute per step) and note it for the heartbeat."""
        now = self._now()
        with self._lock:
            attempt = self._attempts[step] = self._attempts.get(step, 0) + 1
            with_traceback = now - self._last_traceback.get(step, float("-inf")) >= TRACEBACK_EVERY_SECONDS
            if with_traceback:
                self._last_traceback[step] = now
        error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("%s failed", step, exc_info=exc if with_traceback else None,
                    extra={**self.context, "component": self.component, "step": step, "attempt": attempt,
                           "error": error})
        if self.pulse is not None:
            self.pulse.failed(f"{step}: {error}")

    def failed(self, step: str, exc: BaseException) -> float:
        """Report the failure; return how long to wait before trying again, or raise ``Stalled``."""
        self.report(step, exc)
        return self.setback(step)

    def setback(self, step: str | None = None) -> float:
        """An iteration made no progress (its failures already reported): the backoff, or ``Stalled``."""
        self.check(step)
        with self._lock:
            return self.backoff.next()

    def check(self, step: str | None = None) -> None:
        if self.stalled():
            raise Stalled(self.component, self._now() - self.last_progress, step)

    def stalled(self) -> bool:
        return self._now() - self.last_progress > self.stall_seconds


class Watchdog(threading.Thread):
    """Ends the process when a loop is stuck inside a call (it can neither succeed nor fail).

    Every ``period`` seconds it looks at each supervisor; when one has stalled it calls ``on_stall`` (which asks
    the process to stop), waits ``grace`` seconds for the process to wind down, and then exits it hard: a thread
    blocked forever would keep an orderly exit waiting forever.
    """

    def __init__(self, supervisors: list[Supervisor], on_stall: Callable[[], None], *, period: float = 5.0,
                 grace: float = 30.0, hard_exit: Callable[[int], None] = os._exit):
        super().__init__(name="watchdog", daemon=True)
        self.supervisors, self.on_stall, self.period, self.grace = supervisors, on_stall, period, grace
        self.hard_exit = hard_exit
        self._done = threading.Event()

    def stalled(self) -> list[Supervisor]:
        return [s for s in self.supervisors if s.stalled()]

    def run(self) -> None:
        while not self._done.wait(self.period):
            stalled = self.stalled()
            if not stalled:
                continue
            log.critical("no progress for over %s s: %s; stopping the process so it is restarted",
                         stalled[0].stall_seconds, ", ".join(s.component for s in stalled),
                         extra={"components": [s.component for s in stalled]})
            self.on_stall()
            if not self._done.wait(self.grace):
                log.critical("the process did not stop within %s s; exiting now", self.grace)
                flush_output()
                self.hard_exit(EXIT_STALLED)
            return

    def stop(self) -> None:
        self._done.set()


def flush_output() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
