"""How long one scheduler tick takes with many events and a few due.

Fills a throwaway database (embedded PostgreSQL under instance/pgbench) with N events whose
next reminder lies in the future and D that are due, then times `fire_due_reminders()` (the job a
worker's tick runs), rolled back and repeated so every run sees the same D due events.
Usage: .venv/bin/python -m bench.reminder_tick [--events 1000000] [--due 100] [--runs 5]
"""

import argparse
import os
import statistics
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from torium_api.dev.embedded_pg import database_url

    os.environ.update(DATABASE_URL=database_url(str(ROOT / "instance" / "pgbench"), database=f"tick_{os.getpid()}"),
                      LOG_LEVEL="WARNING", AWS_ENDPOINT_URL="http://127.0.0.1:9")
    import flask_migrate

    from torium_api import create_app
    from torium_api.events.services import reminders
    from torium_api.extensions import db

    app = create_app()
    with app.app_context():
        flask_migrate.upgrade()
        started = time.perf_counter()
        _fill(db, args.events, args.due)
        print(f"filled {args.events} events ({args.due} due) in {time.perf_counter() - started:.1f} s")
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            fired = reminders.fire_due_reminders()
            db.session.flush()
            timings.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
            assert fired == args.due, fired
        print(f"one tick: median {statistics.median(timings):.1f} ms, min {min(timings):.1f} ms, "
              f"max {max(timings):.1f} ms over {args.runs} runs, {args.due} reminders fired each")
        plan = db.session.execute(text(
            "EXPLAIN SELECT * FROM events WHERE next_reminder_at <= now() ORDER BY next_reminder_at LIMIT 500 "
            "FOR UPDATE SKIP LOCKED")).scalars().all()
        print("plan:", " / ".join(line.strip() for line in plan))


def _fill(db, events: int, due: int) -> None:
    db.session.execute(text("INSERT INTO users (cognito_sub, email) VALUES ('bench', 'bench@torium.local')"))
    db.session.execute(text("INSERT INTO groups (name, description) VALUES ('bench', '')"))
    db.session.execute(text("""
        INSERT INTO events (group_id, name, description, starts_at, timezone, is_budget, reminder,
                            schedule_period, next_reminder_at)
        SELECT 1, 'e' || i, '', now() + interval '30 days', 'Europe/Warsaw', false, 'periodical', '1 day',
               CASE WHEN i <= :due THEN now() - interval '1 minute'
                    ELSE now() + (i % 1440) * interval '1 minute' + interval '1 hour' END
        FROM generate_series(1, :events) AS i"""), {"due": due, "events": events})
    db.session.commit()
    db.session.execute(text("ANALYZE events"))


if __name__ == "__main__":
    main()
