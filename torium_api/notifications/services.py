"""Deliver one notification to one user on one channel, and log the outcome."""

import functools
import logging

from torium_api.actor import Actor
from torium_api.extensions import db
from torium_api.notifications import Channel, senders
from torium_api.notifications.models import DeliveryStatus, NotificationDelivery
from torium_api.paging import CursorPage, keyset_page
from torium_api.users.models import User

log = logging.getLogger(__name__)
REDACTED = "[redacted: contains a secret code]"


def resolve_channel(user: User, channel: Channel) -> tuple[Channel, str | None]:
    """The concrete channel and recipient address (None when the user has none for it)."""
    if channel is Channel.PREFERRED:
        preferred = Channel(user.reminder_preferences.value) if user.reminder_preferences else Channel.EMAIL
        chosen, recipient = resolve_channel(user, preferred)
        return (chosen, recipient) if recipient else (Channel.EMAIL, user.email)
    recipient = {Channel.SMS: user.mobile_number, Channel.EMAIL: user.email, Channel.PUSH: user.device_arn}[channel]
    return channel, recipient


def deliver(message_id: str, user: User, channel: Channel, *, subject: str, text: str,
            data: dict | None = None, topic: str | None = None) -> NotificationDelivery:
    channel, recipient = resolve_channel(user, channel)
    if not recipient:
        return _log(message_id, user.id, channel, None, subject, text, DeliveryStatus.SKIPPED,
                    detail=f"no {channel.value.lower()} address for this user", topic=topic)
    return send(message_id, user.id, channel, recipient, subject=subject, text=text, data=data, topic=topic)


def send(message_id: str, user_id: int | None, channel: Channel, recipient: str, *, subject: str, text: str,
         data: dict | None = None, sensitive: bool = False, topic: str | None = None) -> NotificationDelivery:
    logged_text = REDACTED if sensitive else text
    log_row = functools.partial(_log, message_id, user_id, channel, recipient, subject, logged_text, topic=topic)
    try:
        if channel is Channel.SMS:
            provider_id = senders.send_sms(recipient, text)
        elif channel is Channel.EMAIL:
            provider_id = senders.send_email(recipient, subject, text)
        else:
            provider_id = senders.send_push(recipient, subject, text, data)
    except senders.Undeliverable as exc:
        return log_row(DeliveryStatus.FAILED, detail=str(exc))
    return log_row(DeliveryStatus.SENT, provider_id=provider_id)


def _log(message_id, user_id, channel, recipient, subject, body, status, *, detail=None, provider_id=None,
         topic=None):
    delivery = NotificationDelivery(message_id=message_id, user_id=user_id, channel=channel.value,
                                    recipient=recipient, subject=subject, body=body, status=status,
                                    detail=detail, provider_id=provider_id, topic=topic)
    db.session.add(delivery)
    log.info("notification %s", status.value, extra={"channel": channel.value, "user_id": user_id,
                                                     "detail": detail})
    return delivery


def forget(topic: str) -> None:
    """Delete the delivery log of something being deleted: its topic and the topics under it
    (``group:1`` also takes ``group:1/event:2``; ``group:1/event:2`` does not take ``…/event:23``)."""
    under = NotificationDelivery.topic.startswith(topic + "/", autoescape=True)
    db.session.execute(db.delete(NotificationDelivery).where((NotificationDelivery.topic == topic) | under))


def forget_user(user_id: int) -> None:
    """An erased user's delivery log goes (it holds their addresses and what they were sent)."""
    db.session.execute(db.delete(NotificationDelivery).where(NotificationDelivery.user_id == user_id))


def deliveries_for(actor: Actor, cursor: str | None = None, limit: int = 20) -> CursorPage:
    query = db.select(NotificationDelivery).where(NotificationDelivery.user_id == actor.id)
    return keyset_page(query, "deliveries", cursor, limit, id_column=NotificationDelivery.id)
