"""GET /health: no token, 200 when the database answers, 503 when it does not.

Only the database is checked: an SQS or SES outage must not pull every instance
out of the load balancer (the outbox keeps work until SQS is back).
"""

import logging

import marshmallow as ma
from flask.views import MethodView

from torium_api.errors import ServiceUnavailable
from torium_api.extensions import db
from torium_api.web import Blueprint

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__, description="Liveness for the load balancer")


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
            _ping()
        except Exception:
            log.exception("health check: database unreachable")
            raise ServiceUnavailable("Database unreachable") from None
        return {"database": "ok"}


def _ping() -> None:
    """SELECT 1 on a pooled connection in autocommit: one round trip (a transaction would add a BEGIN before
    it and a ROLLBACK after it; the load balancer calls this every few seconds on every instance).
    DB_STATEMENT_TIMEOUT_MS, set on the connection, bounds it."""
    connection = db.engine.raw_connection()
    try:
        connection.driver_connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        connection.driver_connection.autocommit = False
    except BaseException:
        connection.invalidate()  # a broken or still-autocommit connection never goes back to the pool
        raise
    finally:
        connection.close()
