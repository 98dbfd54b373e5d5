"""The groups domain's public functions (what views, handlers and the events domain call)."""

from torium_api.groups.services.access import find_membership, get_membership, lock_group, require_role
from torium_api.groups.services.groups import create_group, delete_group, list_groups, update_group
from torium_api.groups.services.invitations import (
    answer_invitation,
    count_invitations,
    find_pending_invitation,
    invitations_digest,
    invite_member,
    list_invitations,
)
from torium_api.groups.services.members import change_role, leave_all_groups, list_members, remove_member

__all__ = [
    "answer_invitation", "change_role", "count_invitations", "create_group", "delete_group",
    "find_membership", "find_pending_invitation", "get_membership", "invitations_digest", "invite_member",
    "leave_all_groups", "list_groups", "list_invitations", "list_members", "lock_group", "remove_member",
    "require_role", "update_group",
]
