"""The events domain's public functions."""

from torium_api.events.services.comments import (
    comments_by,
    delete_comment,
    list_comments,
    post_comment,
    update_comment,
)
from torium_api.events.services.events import calendar_zone, create_event, delete_event, list_events, update_event
from torium_api.events.services.reminders import fire_due_reminders, notify_now

__all__ = [
    "calendar_zone", "comments_by", "create_event", "delete_comment", "delete_event", "fire_due_reminders",
    "list_comments",
    "list_events", "notify_now", "post_comment", "update_comment", "update_event",
]
