"""Message handlers of the notifications domain (registered in workers/__init__.py)."""

import logging

from torium_api.notifications import Channel, senders, services
from torium_api.users import services as users

log = logging.getLogger(__name__)


def on_mobile_verification_requested(payload: dict, *, message_id: str) -> None:
    """Create the code, store its hash and text it, in this one transaction: the code exists nowhere else.
    The SMS goes to the number being verified, not the stored one."""
    if "verification_id" not in payload:  # queued by a version before this one (a rolling deploy)
        services.send(message_id, payload["user_id"], Channel.SMS, payload["mobile_number"],
                      subject="Torium verification", text=payload["message"], sensitive=True)
        return
    issued = users.issue_verification_code(payload["verification_id"])
    if issued is None:
        log.info("verification closed before its code was sent; nothing to send")
        return
    user_id, number, code = issued
    services.send(message_id, user_id, Channel.SMS, number,
                  subject="Torium verification", text=f"Your Torium verification code is: {code}", sensitive=True)


def on_device_registered(payload: dict, *, message_id: str) -> None:
    user = users.find_user(payload["user_id"])
    if user is None or user.device_token != payload["device_token"]:
        log.info("device registration superseded; nothing to do")
        return
    try:
        arn = senders.register_device(user.id, user.device_token, user.device_arn)
    except senders.Undeliverable as exc:
        log.warning("push endpoint not created: %s", exc)
        return
    users.set_device_endpoint(user, arn)


def on_notification_requested(payload: dict, *, message_id: str) -> None:
    user = users.find_user(payload["user_id"])
    if user is None:
        log.info("notification for a deleted user skipped")
        return
    services.deliver(message_id, user, Channel(payload["channel"]), subject=payload["subject"],
                     text=payload["text"], data=payload.get("data"), topic=payload.get("topic"))


def on_group_deleted(payload: dict, *, message_id: str) -> None:
    """A deleted group's delivery log goes too (its events' logs are under its topic)."""
    services.forget(payload["topic"])


def on_event_deleted(payload: dict, *, message_id: str) -> None:
    services.forget(payload["topic"])


def on_user_erased(payload: dict, *, message_id: str) -> None:
    """An erased user's delivery log is forgotten (the users domain asks through its ``users.erased`` event)."""
    services.forget_user(payload["user_id"])
