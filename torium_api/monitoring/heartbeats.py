"""Heartbeats: each background loop says, cheaply, that it is alive and making progress.

A ``Pulse`` belongs to one loop of one process. ``beat()`` (called when the loop made progress) writes its
``heartbeats`` row with one UPSERT and emits the ``Heartbeat`` metric, at most every ``HEARTBEAT_SECONDS``; the
relay's and the scheduler's pulses also measure the outbox backlog and emit ``OutboxOldestUnsentAgeSeconds``.
``failed()`` records the loop's latest error on its row (at the same cadence). Neither ever raises: a heartbeat
that cannot be written must not stop the work it reports on.
"""

import logging
import os
import socket
import time
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert

from torium_api.database import transaction
from torium_api.extensions import db
from torium_api.monitoring import metrics
from torium_api.monitoring.models import Heartbeat
from torium_api.outbox import backlog

log = logging.getLogger(__name__)


class Pulse:
    def __init__(self, app, component: str, metric_component: str, *, report_backlog: bool = False,
                 every: float | None = None, monotonic=time.monotonic):
        self.app, self.component, self.metric_component = app, component, metric_component
        self.report_backlog = report_backlog
        self.every = every if every is not None else app.config["HEARTBEAT_SECONDS"]
        self.host, self.pid = socket.gethostname()[:255], os.getpid()
        self._now = monotonic
        self._last_beat = self._last_error = float("-inf")

    def beat(self, force: bool = False) -> bool:
        """Record progress (rate-limited). Returns whether a beat was due now. Never raises."""
        now = self._now()
        if not force and now - self._last_beat < self.every:
            return False
        self._last_beat = now
        try:
            self._beat()
        except Exception as exc:  # noqa: BLE001 - the loop made progress; failing to say so must not stop it
            log.warning("heartbeat of %s failed: %s", self.component, exc)
        return True

    def _beat(self) -> None:
        measured = None
        try:
            with self.app.app_context(), transaction():
                self._upsert(last_beat_at=func.now())
                if self.report_backlog:
                    measured = backlog.measure()
        except Exception as exc:  # noqa: BLE001 - the metric below still says the loop is alive
            log.warning("heartbeat row of %s not written: %s", self.component, exc)
        identity = {"loop": self.component, "host": self.host, "pid": self.pid}
        metrics.heartbeat(self.app, self.metric_component, **identity)
        if measured is not None:
            metrics.outbox_backlog(self.app, measured.unsent, measured.oldest_age_seconds, **identity)

    def failed(self, error: str) -> None:
        """Put the loop's latest error on its row (rate-limited; silently skipped when the database is down)."""
        now = self._now()
        if now - self._last_error < self.every:
            return
        self._last_error = now
        try:
            with self.app.app_context(), transaction():
                self._upsert(last_error=error[:1000], last_error_at=func.now())
        except Exception:  # noqa: BLE001, S110 - the loop's own log line already says what failed
            pass

    def _upsert(self, **values) -> None:
        statement = insert(Heartbeat).values(component=self.component, host=self.host, pid=self.pid, **values)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=[Heartbeat.component, Heartbeat.host, Heartbeat.pid], set_=values))


def purge(older_than: timedelta = timedelta(days=1)) -> int:
    """Forget processes silent for a day (a restarted process has a new pid, so a new row)."""
    last_seen = func.coalesce(Heartbeat.last_beat_at, Heartbeat.last_error_at, Heartbeat.started_at)
    result = db.session.execute(db.delete(Heartbeat).where(last_seen < func.now() - older_than))
    return result.rowcount
