"""GET /health: no token, 200 when the database answers, 503 when it does not.

Only the database is checked: an SQS or SES outage must not pull every instance
out of the load balancer (the outbox keeps work until SQS is back).
"""

import logging

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import text

from torium_api.errors import ServiceUnavailable
from torium_api.extensions import db
from torium_api.web import Blueprint

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__, description="Liveness for the load balancer")
_PING = text("SELECT 1")


class HealthSchema(ma.Schema):
    database = ma.fields.String(required=True)


@blp.route("/health")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, description="The database is unreachable")
    def get(self):
        """Is the API up and able to reach its database?"""
        try:
            with db.engine.connect() as conn:  # one round trip; DB_STATEMENT_TIMEOUT_MS bounds it
                conn.execute(_PING)
        except Exception:
            log.exception("health check: database unreachable")
            raise ServiceUnavailable("Database unreachable") from None
        return {"database": "ok"}
