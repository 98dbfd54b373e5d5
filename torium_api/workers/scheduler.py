"""Periodic jobs run by the workers, each due run claimed by exactly one worker.

A job's schedule is a row in ``scheduled_jobs``. Every tick, a worker claims the due
rows with ``FOR UPDATE SKIP LOCKED``, runs each job and moves ``next_run_at`` on, in
one transaction: with many instances a job runs once per interval, without a leader.
Jobs that process many items (reminders) claim those items with SKIP LOCKED too.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, String
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, mapped_column

from torium_api.database import locked, transaction
from torium_api.extensions import db

log = logging.getLogger(__name__)


class ScheduledJob(db.Model):
    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[], object]


def tick(jobs: list[PeriodicJob]) -> list[str]:
    """Run the jobs that are due and not claimed by another worker. Returns the names run."""
    with transaction():
        rows = [{"name": job.name, "next_run_at": db.func.now()} for job in jobs]
        if rows:
            db.session.execute(insert(ScheduledJob).values(rows).on_conflict_do_nothing())
    ran = []
    for job in jobs:
        if _run_if_due(job):
            ran.append(job.name)
    return ran


def _run_if_due(job: PeriodicJob) -> bool:
    try:
        with transaction():
            due = db.select(ScheduledJob).where(ScheduledJob.name == job.name,
                                                ScheduledJob.next_run_at <= db.func.now())
            row = db.session.scalar(locked(due, skip_locked=True))
            if row is None:
                return False
            job.run()
            row.last_run_at = db.func.now()
            row.next_run_at = db.func.now() + job.every
        log.info("periodic job ran", extra={"job": job.name})
        return True
    except Exception:
        log.exception("periodic job failed", extra={"job": job.name})
        return False
