"""A consumer loop survives a failure at every step, and every message still takes effect exactly once.

Each test injects one failure (the boto3 call of that step, or the function of that step) into a real loop against
moto's SQS server and real PostgreSQL, then proves: the loop did not die, every message was handled once (its id
claimed once in processed_messages, the handler called once), the queue is empty, and the failure was logged with
the step's name.
"""

import threading

import psycopg2
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.workers.support import Counter, dead_letters, envelope, fast_supervision, make_flaky, queue_counts, send
from torium_api import queues, workers
from torium_api.extensions import db
from torium_api.outbox.models import ProcessedMessage
from torium_api.workers import consumer, runner


@pytest.fixture
def counted(app, monkeypatch):
    fast_supervision(app, monkeypatch)
    handler = Counter()
    monkeypatch.setitem(workers.HANDLERS, "tests.counted", handler)
    return handler


def _consume(app, queue=queues.NOTIFICATIONS, **kwargs) -> int:
    return runner.consume(app, queue, threading.Event(), wait_seconds=0, drain=True, **kwargs)


def _processed(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ProcessedMessage))


def _steps_logged(caplog) -> set[str]:
    return {getattr(r, "step", None) for r in caplog.records} - {None}


def _assert_each_once(app, sqs, counted, total):
    assert len(counted.ids) == len(set(counted.ids)) == total
    assert _processed(app) == total
    assert queue_counts(app, sqs) == (0, 0)


def test_a_failing_receive_is_retried_with_backoff(app, sqs, counted, monkeypatch, caplog):
    send(app, sqs, *(envelope() for _ in range(3)))
    flaky = make_flaky(app, monkeypatch, "receive_message", failures=3)
    assert _consume(app) == 3
    assert flaky.failed == 3
    _assert_each_once(app, sqs, counted, 3)
    assert "receive" in _steps_logged(caplog)


def test_a_failing_delete_is_retried_and_nothing_runs_twice(app, sqs, counted, monkeypatch, caplog):
    send(app, sqs, *(envelope() for _ in range(4)))
    flaky = make_flaky(app, monkeypatch, "delete_message_batch", failures=2)
    _consume(app)
    assert flaky.failed == 2
    _assert_each_once(app, sqs, counted, 4)
    assert "delete" in _steps_logged(caplog)


def test_a_parse_step_that_blows_up_does_not_end_the_loop(app, sqs, counted, monkeypatch, caplog):
    real_parse, calls = consumer.parse, []

    def parse_failing_once(body):
        calls.append(body)
        if len(calls) == 1:
            raise RuntimeError("a bug in parse")
        return real_parse(body)

    monkeypatch.setattr(consumer, "parse", parse_failing_once)
    send(app, sqs, envelope(), envelope())
    _consume(app)
    _assert_each_once(app, sqs, counted, 2)
    assert "parse" in _steps_logged(caplog)


def test_an_envelope_whose_id_is_not_a_string_is_poison_not_a_crash(app, sqs, counted):
    poison = '{"id": 1, "type": "tests.counted", "occurred_at": "x", "payload": {}}'
    send(app, sqs, poison, envelope())
    _consume(app)
    assert [d["body"] for d in dead_letters(app, sqs)] == [poison]
    _assert_each_once(app, sqs, counted, 1)


def test_a_failing_dead_letter_send_is_retried(app, sqs, counted, monkeypatch, caplog):
    flaky = make_flaky(app, monkeypatch, "send_message", failures=1, when=lambda kw: "-dlq" in kw["QueueUrl"])
    send(app, sqs, "not json", envelope())
    _consume(app)
    assert flaky.failed == 1
    assert [d["body"] for d in dead_letters(app, sqs)] == ["not json"]  # once, after the retry
    _assert_each_once(app, sqs, counted, 1)
    assert "dead-letter" in _steps_logged(caplog)


def test_a_database_outage_during_handling_is_retried_without_giving_up(app, sqs, counted, monkeypatch, caplog):
    real_claim, calls = consumer._claim, []

    def claim_with_the_database_gone_once(envelope_):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT …", {}, psycopg2.OperationalError("server closed the connection"))
        return real_claim(envelope_)

    monkeypatch.setattr(consumer, "_claim", claim_with_the_database_gone_once)
    send(app, sqs, envelope(), envelope())
    _consume(app)
    _assert_each_once(app, sqs, counted, 2)
    assert "handle" in _steps_logged(caplog)


def test_an_exception_escaping_handle_releases_the_message_for_a_retry(app, sqs, counted, monkeypatch, caplog):
    real_handle, calls = consumer.handle, []

    def handle_failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("a bug outside the handler")
        return real_handle(*args, **kwargs)

    monkeypatch.setattr(consumer, "handle", handle_failing_once)
    send(app, sqs, envelope(), envelope(), envelope())
    _consume(app)
    _assert_each_once(app, sqs, counted, 3)
    assert "handle" in _steps_logged(caplog)


def test_a_failing_release_on_shutdown_is_logged_and_the_messages_come_back(app, sqs, monkeypatch, caplog):
    fast_supervision(app, monkeypatch)
    stop = threading.Event()
    handler = Counter(on_call=lambda count: stop.set() if count == 2 else None)
    monkeypatch.setitem(workers.HANDLERS, "tests.counted", handler)
    send(app, sqs, *(envelope() for _ in range(6)))
    flaky = make_flaky(app, monkeypatch, "change_message_visibility_batch", failures=1, error=RuntimeError("boom"))
    handled = runner.consume(app, queues.NOTIFICATIONS, stop, wait_seconds=0, concurrency=1)
    assert flaky.failed == 1 and handled == 2 and "release" in _steps_logged(caplog)
    # the four not started stay in flight until their visibility timeout ends; end it now instead of waiting 30 s
    assert queue_counts(app, sqs) == (0, 4)
    [failed_release] = flaky.failed_calls
    flaky.real.change_message_visibility_batch(**failed_release)
    monkeypatch.setitem(app.extensions["torium_aws"], "sqs", flaky.real)
    _consume(app)
    assert len(handler.ids) == len(set(handler.ids)) == 6 and _processed(app) == 6
    assert queue_counts(app, sqs) == (0, 0)
