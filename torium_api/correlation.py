"""The correlation id of the work in hand, for logs and outbox messages.

An adapter binds it: a request to its ``X-Request-ID`` (``logs.py``), a worker to the id that came with the
message it handles (``workers/consumer.py``). ``emit()`` copies it onto every message, so the work a request
starts, and the work that work starts, logs under the request's id. Services never set or read it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current() -> str | None:
    return _current.get()


def bind(value: str | None) -> Token:
    return _current.set(value)


def unbind(token: Token) -> None:
    _current.reset(token)


@contextmanager
def bound(value: str | None) -> Iterator[None]:
    token = bind(value)
    try:
        yield
    finally:
        unbind(token)
