"""Contract routes 1–9. Paths, headers and fields follow the Flutter app; the caller is the token's user."""

from flask import request
from flask.views import MethodView

from torium_api.auth import current_actor
from torium_api.database import transaction
from torium_api.events import blp, services
from torium_api.events.schemas import (
    CommentCreatedSchema,
    CommentCreateSchema,
    CommentHeadersSchema,
    CommentSchema,
    CommentUpdateSchema,
    EventCreatedSchema,
    EventCreateSchema,
    EventIdSchema,
    EventSchema,
    EventsHeadersSchema,
    EventUpdateSchema,
    NotifySchema,
)
from torium_api.groups.schemas import GroupHeadersSchema

PAGE = {"page_size": 100, "max_page_size": 500}
NO_EVENT = "No such event, or the caller is not in its group"


@blp.route("/event")
class Events(MethodView):
    @blp.conditional(vary=lambda: services.calendar_zone(current_actor()))
    @blp.arguments(EventsHeadersSchema, location="headers")
    @blp.response(200, EventSchema(many=True))
    @blp.paginate(**PAGE)
    @blp.alt_response(404, description="trm-group-id names a group the caller is not in")
    def get(self, headers, pagination_parameters):
        """The caller's events: upcoming ones first (soonest first), then past ones (newest first); only a group's
        with trm-group-id. Without `page`/`page_size` (the app's call) the page holds every upcoming event
        (at least 100 events, at most 500 upcoming)."""
        page = pagination_parameters
        unpaged = not {"page", "page_size"} & request.args.keys()
        items, page.item_count, page.page_size = services.list_events(
            current_actor(), headers.get("group_id"), page.page, None if unpaged else page.page_size)
        return items

    @blp.arguments(GroupHeadersSchema, location="headers")
    @blp.arguments(EventCreateSchema)
    @blp.response(200, EventCreatedSchema)
    @blp.alt_response(403, description="Not an admin or moderator of the group")
    @blp.alt_response(404, description="No such group, or the caller is not in it")
    @blp.alt_response(429, description="Too many new events today")
    def post(self, headers, data):
        """Create an event in the group (admins and moderators); the creator is a member"""
        with transaction():
            event = services.create_event(current_actor(), headers["group_id"], **data)
        return {"id": event.id}

    @blp.arguments(EventUpdateSchema)
    @blp.response(200)
    @blp.alt_response(403, description="Not an admin or moderator of the event's group")
    @blp.alt_response(404, description=NO_EVENT)
    def put(self, data):
        """Edit an event (admins and moderators of its group); its reminder moves with it"""
        with transaction():
            services.update_event(current_actor(), data.pop("id"), **data)

    @blp.arguments(EventIdSchema)
    @blp.response(200)
    @blp.alt_response(403, description="Not the admin of the event's group")
    @blp.alt_response(404, description=NO_EVENT)
    def delete(self, data):
        """Delete an event with its members, comments, reminders and their delivery log (admins)"""
        with transaction():
            services.delete_event(current_actor(), data["id"])


@blp.route("/event/notify")
class NotifyAll(MethodView):
    @blp.arguments(NotifySchema)
    @blp.response(200)
    @blp.alt_response(403, description="Not the admin of the event's group")
    @blp.alt_response(404, description=NO_EVENT)
    @blp.alt_response(429, description="Already notified within NOTIFY_THROTTLE_SECONDS")
    @blp.doc(operationId="notifyEventMembers")
    def post(self, data):
        """Send the event's reminder to all its members now (admins; throttled)"""
        with transaction():
            services.notify_now(current_actor(), data["event_id"])


@blp.route("/event/comment")
class Comments(MethodView):
    @blp.conditional()
    @blp.arguments(CommentHeadersSchema, location="headers")
    @blp.response(200, CommentSchema(many=True))
    @blp.paginate(**PAGE)
    @blp.alt_response(404, description="No such event, or the caller is not one of its members")
    def get(self, headers, pagination_parameters):
        """The event's comments, newest first (event members); pages of 100 like the app's other lists"""
        page = pagination_parameters
        items, page.item_count = services.list_comments(current_actor(), headers["event_id"], page.page,
                                                        page.page_size)
        return items

    @blp.arguments(CommentCreateSchema)
    @blp.response(200, CommentCreatedSchema)
    @blp.alt_response(404, description="No such event, or the caller is not one of its members")
    @blp.alt_response(429, description="Too many comments this hour")
    def post(self, data):
        """Comment on an event (event members); the others get a push"""
        with transaction():
            comment = services.post_comment(current_actor(), **data)
        return {"events_comments_id": [comment.id]}

    @blp.arguments(CommentUpdateSchema)
    @blp.response(200)
    @blp.alt_response(403, description="Not the comment's author")
    @blp.alt_response(404, description="No such comment, or the caller is not a member of its event")
    def put(self, data):
        """Edit one's own comment"""
        with transaction():
            services.update_comment(current_actor(), data["id"], data["comment"])

    @blp.arguments(EventIdSchema)
    @blp.response(200)
    @blp.alt_response(403, description="Not the comment's author nor an admin of its group")
    @blp.alt_response(404, description="No such comment, or the caller is not in its event's group")
    def delete(self, data):
        """Delete one's own comment (group admins: any comment)"""
        with transaction():
            services.delete_comment(current_actor(), data["id"])
