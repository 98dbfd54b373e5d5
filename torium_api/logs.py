"""JSON-lines logging to stdout with a request id, and one access line per request."""

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from torium_api import correlation

_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class _RequestContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = correlation.current()
        if has_request_context():
            claims = getattr(g, "auth_claims", None)
            record.user_sub = claims.get("sub") if claims else None
            user = getattr(g, "actor", None)
            record.user_id = getattr(user, "id", None)
        return True


def json_handler(stream) -> logging.Handler:
    """One JSON object per line: ts, level, logger, msg, request_id, user_sub and the record's extras."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "ts", "levelname": "level", "name": "logger",
                                                      "message": "msg"}))
    handler.addFilter(_RequestContext())
    return handler


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_torium", False) for h in root.handlers):
        return
    handler = json_handler(sys.stdout)
    handler._torium = True
    root.addHandler(handler)
    root.setLevel(level)
    # The lines carry no source location, thread or process (json_handler's fields): skip collecting them. Finding
    # the caller walks the stack on every record, the access line's included (logging HOWTO, "Optimization").
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    for noisy in ("botocore", "urllib3", "werkzeug", "pgserver", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    access = logging.getLogger("torium_api.access")
    if app.config["SQL_COUNT_HEADER"]:
        _count_sql(app)

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else str(uuid.uuid4())
        g.correlation = correlation.bind(g.request_id)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        duration = (time.perf_counter() - getattr(g, "started", time.perf_counter())) * 1000
        access.info("request", extra={"method": request.method, "path": request.path,
                                      "status": response.status_code, "duration_ms": round(duration, 1)})
        return response

    @app.teardown_request
    def _unbind(_error):
        if "correlation" in g:
            correlation.unbind(g.pop("correlation"))


def _count_sql(app: Flask) -> None:
    """Benchmark diagnostics (SQL_COUNT_HEADER=1): how many statements each request sent."""
    from sqlalchemy import event

    from torium_api.extensions import db

    with app.app_context():
        @event.listens_for(db.engine, "before_cursor_execute")
        def _count(*args):
            if has_request_context():
                g.sql_count = getattr(g, "sql_count", 0) + 1

    @app.after_request
    def _header(response):
        response.headers["X-SQL-Count"] = str(getattr(g, "sql_count", 0))
        return response
