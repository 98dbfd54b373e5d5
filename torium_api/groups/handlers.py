"""Message handlers of the groups domain (registered in workers/__init__.py)."""

import logging

from torium_api.groups import services
from torium_api.notifications import Channel
from torium_api.notifications import services as notifications

log = logging.getLogger(__name__)


def on_invitation_sent(payload: dict, *, message_id: str) -> None:
    """Push the invitation to the invitee's device. It is visible in the app whether or not this arrives."""
    invitation = services.find_pending_invitation(payload["invitation_id"])
    if invitation is None:
        log.info("invitation already answered or gone; no push")
        return
    inviter = invitation.invited_by.email if invitation.invited_by else "Someone"
    notifications.deliver(
        message_id, invitation.user, Channel.PUSH,
        subject="Group invitation", text=f"{inviter} invited you to join {invitation.group.name}",
        data={"type": "group_invitation", "group_id": str(invitation.group_id)},
        topic=f"group:{invitation.group_id}")
