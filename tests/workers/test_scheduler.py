"""The scheduler tick: a due job runs once, however many workers tick at the same moment."""

import threading
import time
from datetime import timedelta

from sqlalchemy import update

from tests.factories import run_concurrently
from torium_api.extensions import db
from torium_api.workers import scheduler
from torium_api.workers.scheduler import PeriodicJob, ScheduledJob


def test_a_due_job_runs_once_across_concurrent_workers(app):
    runs = []

    def job():
        runs.append(threading.get_ident())
        time.sleep(0.2)  # hold the claim while the other workers tick

    jobs = [PeriodicJob("tests.job", timedelta(minutes=5), job)]

    def worker():
        with app.app_context():
            return scheduler.tick(jobs)

    assert sorted(run_concurrently(*[worker] * 4)) == [[], [], [], ["tests.job"]]
    assert len(runs) == 1
    with app.app_context():
        assert scheduler.tick(jobs) == []  # not due again for five minutes
        db.session.execute(update(ScheduledJob).values(next_run_at=db.func.now()))
        db.session.commit()
        assert scheduler.tick(jobs) == ["tests.job"]
    assert len(runs) == 2


def test_a_failing_job_is_retried_next_tick_and_does_not_stop_others(app):
    ran = []

    def broken():
        raise RuntimeError("job failed")

    jobs = [PeriodicJob("tests.broken", timedelta(hours=1), broken),
            PeriodicJob("tests.fine", timedelta(hours=1), lambda: ran.append(1))]
    with app.app_context():
        assert scheduler.tick(jobs) == ["tests.fine"]
        assert scheduler.tick(jobs) == []
        assert db.session.get(ScheduledJob, "tests.broken").last_run_at is None  # still due
