"""What the workers do: the message handlers and the periodic jobs, registered in one place.

A handler is ``on_<event>(payload: dict, *, message_id: str)`` in the consuming domain's
``handlers.py``; it must be idempotent and must not commit (the consumer owns the
transaction). Queue routing: each message type names its queue when it is emitted.
"""

from datetime import timedelta

from torium_api import idempotency
from torium_api.events import handlers as events
from torium_api.events.services import reminders
from torium_api.groups import handlers as groups
from torium_api.monitoring import heartbeats
from torium_api.notifications import handlers as notifications
from torium_api.orders import handlers as orders
from torium_api.orders import services as order_services
from torium_api.outbox import relay
from torium_api.users import handlers as users
from torium_api.workers import consumer, scheduler


def _on_user_erased(payload: dict, *, message_id: str) -> None:
    """Two reactions to one event, in the message's one transaction: Cognito deletes the user, and the delivery log
    (addresses, texts) is forgotten. Both are idempotent, so a retry after either failed repeats both safely."""
    users.on_user_erased(payload, message_id=message_id)
    notifications.on_user_erased(payload, message_id=message_id)


HANDLERS = {
    "users.mobile_verification_requested": notifications.on_mobile_verification_requested,
    "users.device_registered": notifications.on_device_registered,
    "notifications.requested": notifications.on_notification_requested,
    "groups.group_deleted": notifications.on_group_deleted,
    "events.event_deleted": notifications.on_event_deleted,
    "groups.invitation_sent": groups.on_invitation_sent,
    "events.reminder_due": events.on_reminder_due,
    "events.comment_posted": events.on_comment_posted,
    "orders.placed": orders.on_order_placed,
    "orders.stock_reserved": orders.on_stock_reserved,
    "orders.paid": orders.on_order_paid,
    "users.first_seen": users.on_first_seen,
    "users.access_changed": users.on_access_changed,
    "users.role_changed": users.on_role_changed,
    "users.erased": _on_user_erased,
}


# Called (in a new transaction) when a message fails for the last time before SQS dead-letters it,
# so what it was about does not stay half-done: ``give_up(payload, error)``.
GIVE_UP = {
    "orders.placed": order_services.give_up,
    "orders.stock_reserved": order_services.give_up,
    "orders.paid": order_services.give_up,
}


PERIODIC_JOBS = [
    scheduler.PeriodicJob("orders.reap_stuck", timedelta(seconds=60), order_services.reap_stuck),
    scheduler.PeriodicJob("orders.expire_receipts", timedelta(minutes=10), order_services.expire_receipts),
    scheduler.PeriodicJob("events.fire_due_reminders", timedelta(seconds=10), reminders.fire_due_reminders),
    scheduler.PeriodicJob("outbox.purge_sent", timedelta(hours=1), relay.purge_sent),
    scheduler.PeriodicJob("processed_messages.purge", timedelta(hours=1), consumer.purge_processed),
    scheduler.PeriodicJob("idempotency_records.purge", timedelta(hours=1), idempotency.purge),
    scheduler.PeriodicJob("heartbeats.purge", timedelta(hours=1), heartbeats.purge),
]
