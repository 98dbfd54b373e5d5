"""/notifications: what was sent to the caller (SMS, e-mail, push), and what could not be."""

from flask.views import MethodView

from torium_api.auth import current_actor
from torium_api.notifications import blp, services
from torium_api.notifications.schemas import DeliverySchema
from torium_api.paging import CursorPageArgsSchema


@blp.route("/notifications")
class Deliveries(MethodView):
    @blp.arguments(CursorPageArgsSchema, location="query")
    @blp.cursor_page(DeliverySchema)
    def get(self, args):
        """The caller's delivery log, newest first (codes are redacted)"""
        return services.deliveries_for(current_actor(), **args)
