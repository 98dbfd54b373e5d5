"""A message type this worker does not know (a rolling deploy: the new code emits it, an old worker receives it)
goes back to the queue with a growing delay; only after QUEUE_MAX_RECEIVES receives or UNKNOWN_TYPE_MAX_SECONDS is
it dead-lettered, with the reason. A structurally broken message still goes to the DLQ at once."""

import threading
import time

from tests.workers.support import Counter, dead_letters, envelope, queue_counts, send
from torium_api import queues, workers
from torium_api.workers import consumer, runner


def _consume(app) -> int:
    return runner.consume(app, queues.NOTIFICATIONS, threading.Event(), wait_seconds=0, drain=True)


def _visibility_changes(app, monkeypatch) -> list[int]:
    """Record the VisibilityTimeout of every change_message_visibility call (they still happen)."""
    from torium_api import aws

    with app.app_context():
        real = aws.client("sqs")
    changes = []

    class Recording:
        def __getattr__(self, name):
            return getattr(real, name)

        def change_message_visibility(self, **kwargs):
            changes.append(kwargs["VisibilityTimeout"])
            return real.change_message_visibility(**kwargs)

    monkeypatch.setitem(app.extensions["torium_aws"], "sqs", Recording())
    return changes


def test_an_unknown_type_waits_with_growing_delays_then_is_dead_lettered_with_the_reason(app, sqs, monkeypatch):
    monkeypatch.setitem(app.config, "UNKNOWN_TYPE_RETRY_SECONDS", 0)  # every deferral at once, so one drain sees all
    changes = _visibility_changes(app, monkeypatch)
    body = envelope("newer.code_emits_this")
    send(app, sqs, body)
    _consume(app)
    max_receives = app.config["QUEUE_MAX_RECEIVES"]
    assert len(changes) == max_receives - 1  # deferred on every receive but the last
    [dead] = dead_letters(app, sqs)
    assert dead["body"] == body
    assert "newer.code_emits_this" in dead["reason"] and f"{max_receives} receives" in dead["reason"]
    assert queue_counts(app, sqs) == (0, 0)


def test_the_deferral_grows_and_is_capped(app):
    app.config["UNKNOWN_TYPE_RETRY_SECONDS"], saved = 60, app.config["UNKNOWN_TYPE_RETRY_SECONDS"]
    try:
        with app.app_context():
            assert [consumer.unknown_type_delay(n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
            assert consumer.unknown_type_delay(30) == consumer.MAX_RETRY_DELAY
    finally:
        app.config["UNKNOWN_TYPE_RETRY_SECONDS"] = saved


def test_a_newer_worker_handles_a_message_an_older_one_deferred(app, sqs, monkeypatch):
    monkeypatch.setitem(app.config, "UNKNOWN_TYPE_RETRY_SECONDS", 1)
    send(app, sqs, envelope("newer.code_emits_this", {"n": 1}))
    assert _consume(app) == 1  # the old worker: no handler, so the message goes back for a second
    assert queue_counts(app, sqs) == (0, 1) and dead_letters(app, sqs) == []
    handler = Counter()
    monkeypatch.setitem(workers.HANDLERS, "newer.code_emits_this", handler)  # the new code is deployed
    deadline = time.monotonic() + 10
    while not handler.ids and time.monotonic() < deadline:
        _consume(app)
        time.sleep(0.05)
    assert len(handler.ids) == 1 and dead_letters(app, sqs) == []
    assert queue_counts(app, sqs) == (0, 0)


def test_an_unknown_type_older_than_the_time_bound_is_dead_lettered_at_once(app, sqs, monkeypatch):
    monkeypatch.setitem(app.config, "UNKNOWN_TYPE_MAX_SECONDS", 0)
    send(app, sqs, envelope("newer.code_emits_this"))
    _consume(app)
    [dead] = dead_letters(app, sqs)
    assert "newer.code_emits_this" in dead["reason"] and "old" in dead["reason"]


def test_structural_poison_still_goes_to_the_dlq_on_the_first_receive(app, sqs, monkeypatch):
    changes = _visibility_changes(app, monkeypatch)
    send(app, sqs, "not json", '{"id": "x", "type": "t", "payload": {}}')
    _consume(app)
    assert changes == []
    assert sorted(d["body"] for d in dead_letters(app, sqs)) == sorted(['{"id": "x", "type": "t", "payload": {}}',
                                                                        "not json"])
    assert all(d["reason"].startswith("unparseable") or "envelope" in d["reason"] for d in dead_letters(app, sqs))
