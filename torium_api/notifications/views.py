"""/notifications: what was sent to the caller (SMS, e-mail, push), and what could not be."""

from flask.views import MethodView

from torium_api.auth import current_user
from torium_api.notifications import blp, services
from torium_api.notifications.schemas import DeliveryPageSchema, DeliveryQueryArgsSchema


@blp.route("/notifications")
class Deliveries(MethodView):
    @blp.arguments(DeliveryQueryArgsSchema, location="query")
    @blp.response(200, DeliveryPageSchema)
    def get(self, args):
        """The caller's delivery log, newest first (codes are redacted)"""
        items, next_cursor = services.deliveries_for(current_user(), args.get("cursor"), args["limit"])
        return {"items": items, "next_cursor": next_cursor}
