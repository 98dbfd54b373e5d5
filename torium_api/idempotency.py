"""``Idempotency-Key`` for create endpoints: a retried request replays the first response.

The key is claimed in the same transaction as the request's effects: a row unique per
(user, route, key). A concurrent duplicate blocks on that unique index until the first
commits, then finds the stored response and replays it; if the first rolled back, the
duplicate runs as if it were first. The same key with a different body is a 422.
Error responses are not stored (they changed nothing), so retrying them runs again.
"""

import hashlib
import json
import re
from datetime import datetime
from functools import wraps

from flask import Response, current_app, g, request
from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Mapped, mapped_column

from torium_api.database import transaction
from torium_api.errors import Invalid
from torium_api.extensions import db

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
DOC = {"parameters": [{"in": "header", "name": HEADER, "required": False, "schema": {"type": "string",
                                                                                     "maxLength": 100},
                       "description": "Retry-safe: the same key and body replay the first response"}]}


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "route", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text, comment="the first response, byte for byte")
    headers: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)


def _fingerprint() -> str:
    body = request.get_json(silent=True)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path} {canonical}".encode()).hexdigest()


def idempotent(view):
    """Wrap a view (outermost, above flask-smorest's decorators) to honour ``Idempotency-Key``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY.match(key):
            raise Invalid(f"{HEADER} must be 1-100 letters, digits or -_.:", errors={HEADER: ["Invalid key."]})
        with transaction():
            record, fresh = _claim(key, _fingerprint())
            if not fresh:
                return _replay(record)
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code < 400:
                record.status_code, record.body = response.status_code, response.get_data(as_text=True)
                record.headers = {k: v for k, v in response.headers.items() if k in ("Location",)}
            else:
                db.session.delete(record)
            return response

    return wrapper


def _claim(key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    values = {"user_id": g.actor.id, "route": f"{request.method} {request.url_rule.rule}", "key": key,
              "fingerprint": fingerprint}
    inserted = db.session.scalar(insert(IdempotencyRecord).values(**values).on_conflict_do_nothing()
                                 .returning(IdempotencyRecord.id))
    record = db.session.scalar(db.select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == values["user_id"], IdempotencyRecord.route == values["route"],
        IdempotencyRecord.key == key))
    if record.fingerprint != fingerprint:
        raise Invalid(f"This {HEADER} was used with a different request", errors={HEADER: ["Key reused."]})
    return record, inserted is not None


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.body, status=record.status_code, mimetype="application/json")
    response.headers.update(record.headers or {})
    response.headers["Idempotent-Replayed"] = "true"
    return response


def purge(older_than_days: int = 7) -> None:
    db.session.execute(db.delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < func.now() - func.make_interval(0, 0, 0, older_than_days)))
