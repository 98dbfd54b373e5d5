"""Message handlers of the groups domain (registered in workers/__init__.py)."""

import logging

from torium_api.groups import services
from torium_api.notifications import Channel, request_notification

log = logging.getLogger(__name__)


def on_invitation_sent(payload: dict, *, message_id: str) -> None:
    """Ask for a push to the invitee, unless the invitation was answered meanwhile (it is visible in the app
    either way). The push goes the one way notifications go: a ``notifications.requested`` message."""
    invitation = services.find_pending_invitation(payload["invitation_id"])
    if invitation is None:
        log.info("invitation already answered or gone; no push")
        return
    inviter = invitation.invited_by.email if invitation.invited_by else "Someone"
    request_notification(invitation.user_id, subject="Group invitation",
                         text=f"{inviter} invited you to join {invitation.group.name}", channel=Channel.PUSH,
                         data={"type": "group_invitation", "group_id": str(invitation.group_id)},
                         topic=f"group:{invitation.group_id}")
