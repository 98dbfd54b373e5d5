"""Notifications: deliver a message to a user by SMS (SNS), e-mail (SES) or push (SNS), and log it.

A sink: it imports ``users`` only. Other domains reach it only through outbox messages: a
``notifications.requested`` message (``request_notification`` adds one to the caller's transaction) or
their own events it reacts to (``groups.group_deleted``, ``events.event_deleted``: forget the delivery
log). Nothing calls its services directly; its handlers run in the workers.
"""

import enum

from torium_api import queues
from torium_api.outbox import emit
from torium_api.web import Blueprint

blp = Blueprint("notifications", __name__, description="The caller's notification delivery log")


class Channel(enum.StrEnum):
    SMS = "SMS"
    EMAIL = "EMAIL"
    PUSH = "PUSH"
    PREFERRED = "PREFERRED"  # the user's reminder preference, falling back to e-mail


def request_notification(user_id: int, *, subject: str, text: str, channel: Channel = Channel.PREFERRED,
                         data: dict | None = None, topic: str | None = None) -> None:
    """Ask the workers to notify a user (adds an outbox message to the caller's transaction).

    ``topic`` tags the delivery log (``group:1/event:2``) so it can be forgotten with what it was about.
    """
    emit("notifications.requested",
         {"user_id": user_id, "channel": channel.value, "subject": subject, "text": text, "data": data or {},
          "topic": topic}, queue=queues.NOTIFICATIONS)


from torium_api.notifications import views  # noqa: E402,F401
