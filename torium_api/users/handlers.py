"""Message handlers of the users domain (registered in workers/__init__.py): Cognito follows what the API decided.

Each reads the state now in the database and makes Cognito match it, so messages handled twice or out of order
(a standard queue) still end with Cognito as the database says.
"""

import logging

from torium_api.actor import AppRole
from torium_api.users import back_office, cognito, services

log = logging.getLogger(__name__)


def on_first_seen(payload: dict, *, message_id: str) -> None:
    """Write the new user's id into Cognito's ``custom:user_id`` (the app client can read it, not write it)."""
    cognito.set_user_id(payload["username"], payload["user_id"])


def on_access_changed(payload: dict, *, message_id: str) -> None:
    user = services.find_user(payload["user_id"])
    if user is None or user.deleted_at is not None:
        log.info("access change for an erased user: nothing to do")
        return
    if user.disabled_at is not None:
        cognito.disable(user.cognito_name)
    else:
        cognito.enable(user.cognito_name)


def on_role_changed(payload: dict, *, message_id: str) -> None:
    grant = back_office.lock_role(payload["user_id"], AppRole(payload["role"]))
    user = services.find_user(payload["user_id"])
    if grant is None or user is None or user.deleted_at is not None:
        log.info("role change for an erased user: nothing to do")
        return
    if grant.granted:
        cognito.add_to_group(user.cognito_name, grant.role.value)
    else:
        cognito.remove_from_group(user.cognito_name, grant.role.value)
    back_office.mark_synced(grant)


def on_user_erased(payload: dict, *, message_id: str) -> None:
    cognito.delete(payload["username"])
