"""Background pipeline benchmark: outbox → relay → SQS → worker → SES, as separate processes.

Measures (1) throughput: N e-mail notifications committed at once, time until all are delivered;
(2) latency: messages committed one at a time, time from commit to the delivery row.
Runs against the embedded PostgreSQL (instance/pgbench) and a moto server on loopback.
Usage: .venv/bin/python -m bench.pipeline [--messages 1000] [--latency-samples 50]
"""

import argparse
import statistics
import time
from datetime import UTC, datetime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--latency-samples", type=int, default=50)
    args = parser.parse_args()

    from bench.stack import background_stack

    with background_stack("bench") as app:
        with app.app_context():
            user_id = _user(app)
        throughput = _throughput(app, user_id, args.messages)
        latencies = _latencies(app, user_id, args.latency_samples)
    print(f"throughput: {args.messages} messages in {throughput:.2f} s = {args.messages / throughput:.0f} msg/s")
    print(f"commit→delivery latency over {len(latencies)} messages: median {statistics.median(latencies):.0f} ms, "
          f"p95 {sorted(latencies)[int(len(latencies) * 0.95) - 1]:.0f} ms, max {max(latencies):.0f} ms")


def _user(app) -> int:
    from torium_api.database import transaction
    from torium_api.users import services

    with transaction():
        services.create_user_from_token({"sub": "bench-user", "email": "bench@torium.local"}, token="")
    return services.find_user_by_sub("bench-user").id


def _emit(user_id: int, count: int) -> list:
    from torium_api import queues
    from torium_api.database import transaction
    from torium_api.notifications import Channel
    from torium_api.outbox import emit

    with transaction():
        return [emit("notifications.requested", {"user_id": user_id, "channel": Channel.EMAIL.value,
                                                 "subject": "bench", "text": f"message {i}", "data": {}},
                     queue=queues.NOTIFICATIONS) for i in range(count)]


def _delivered(ids=None) -> int:
    from torium_api.extensions import db
    from torium_api.notifications.models import NotificationDelivery

    query = db.select(db.func.count()).select_from(NotificationDelivery)
    if ids is not None:
        query = query.where(NotificationDelivery.message_id.in_(ids))
    return db.session.scalar(query)


def _throughput(app, user_id: int, count: int) -> float:
    with app.app_context():
        start = time.perf_counter()
        ids = _emit(user_id, count)
        while _delivered(ids) < count:
            time.sleep(0.05)
            from torium_api.extensions import db

            db.session.rollback()
        return time.perf_counter() - start


def _latencies(app, user_id: int, samples: int) -> list[float]:
    from torium_api.extensions import db
    from torium_api.notifications.models import NotificationDelivery

    committed = {}
    with app.app_context():
        for _ in range(samples):
            [message_id] = _emit(user_id, 1)
            committed[message_id] = datetime.now(UTC)
            time.sleep(0.1)
        deadline = time.monotonic() + 60
        while _delivered(list(committed)) < samples and time.monotonic() < deadline:
            time.sleep(0.1)
            db.session.rollback()
        rows = db.session.execute(db.select(NotificationDelivery.message_id, NotificationDelivery.created_at)
                                  .where(NotificationDelivery.message_id.in_(list(committed)))).all()
    return [(created - committed[mid]).total_seconds() * 1000 for mid, created in rows]


if __name__ == "__main__":
    main()
