"""Domain errors and the one error envelope.

Services raise ``DomainError`` subclasses; this module turns them, flask-smorest /
webargs ``HTTPException``s and unexpected exceptions into
``{"status": {"code", "message"}, "data": null[, "errors": {...}]}``.
No SQL text, stack trace or token detail ever reaches the client.
"""

import logging

import sqlalchemy.exc
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    status_code = 400
    message = "Bad request"
    commit_anyway = False

    def __init__(self, message: str | None = None, *, errors: dict | None = None, headers: dict | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.errors = errors
        self.headers = headers or {}


class BadRequest(DomainError):
    """A body no parser should walk (the shape of webargs' "Invalid JSON body" 400)."""

    status_code = 400
    message = "Bad Request"


class NotFound(DomainError):
    status_code = 404
    message = "Not found"


class Forbidden(DomainError):
    status_code = 403
    message = "You are not allowed to do this"


class Conflict(DomainError):
    status_code = 409
    message = "Conflict"


class Invalid(DomainError):
    """A rule about the input that a schema cannot check (it needs the database)."""

    status_code = 422
    message = "Validation failed"


class PreconditionRequired(DomainError):
    status_code = 428
    message = "Send If-Match with the ETag you last read"


class PreconditionFailed(DomainError):
    status_code = 412
    message = "It changed since you read it: fetch it again and retry"


class TooManyRequests(DomainError):
    status_code = 429
    message = "Too many requests"


class ServiceUnavailable(DomainError):
    status_code = 503
    message = "Service temporarily unavailable"


def error_response(code: int, message: str, errors: dict | None = None, headers=None):
    body = {"status": {"code": code, "message": message}, "data": None}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = code
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten_webargs_errors(messages: dict) -> dict:
    """webargs reports {"json": {...}, "query": {...}}; clients get one {field: [msg]} map."""
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def handle_http_exception(error: HTTPException):
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message")
    if message is None:
        message = "Validation failed" if error.code == 422 else (error.name or "Error")
    headers = {k: v for k, v in error.get_response().headers.items() if k in _KEPT_HEADERS}
    headers.update(data.get("headers") or {})
    if error.code and error.code >= 500:
        message = "Internal server error" if error.code == 500 else error.name
    return error_response(error.code or 500, message, _flatten_webargs_errors(errors) if errors else None, headers)


_KEPT_HEADERS = {"Allow", "WWW-Authenticate", "Retry-After"}


def handle_domain_error(error: DomainError):
    return error_response(error.status_code, error.message, error.errors, error.headers)


def handle_database_unavailable(error: Exception):
    """The database is down, restarting, or gave up on a statement (statement or lock timeout): nothing was
    committed, and a retry shortly may succeed. Logged with its class, never its SQL or parameters."""
    log.error("database unavailable: %s", type(getattr(error, "orig", error)).__name__)
    return error_response(503, "The service is busy or restarting; retry shortly", headers={"Retry-After": "2"})


def handle_unexpected(error: Exception):
    log.exception("unhandled exception")
    return error_response(500, "Internal server error")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(sqlalchemy.exc.OperationalError, handle_database_unavailable)
    app.register_error_handler(sqlalchemy.exc.TimeoutError, handle_database_unavailable)  # no pool connection free
    app.register_error_handler(Exception, handle_unexpected)
