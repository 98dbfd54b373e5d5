"""Who may do what in a group. Every mutation locks the group row first, so concurrent
changes to one group's membership run one after another and its invariants hold."""

from sqlalchemy import bindparam

from torium_api.actor import Actor
from torium_api.errors import Forbidden, NotFound
from torium_api.extensions import db
from torium_api.groups.models import Group, GroupMember, Role

GROUP_NOT_FOUND = "Group not found"


def lock_group(group_id: int) -> Group:
    group = db.session.get(Group, group_id, with_for_update=True, populate_existing=True)  # fresh, see database.locked
    if group is None:
        raise NotFound(GROUP_NOT_FOUND)
    return group


_MEMBERSHIP = db.select(GroupMember).where(GroupMember.group_id == bindparam("group_id"),
                                           GroupMember.user_id == bindparam("user_id"))  # built once: hot


def find_membership(group_id: int, user_id: int) -> GroupMember | None:
    return db.session.scalar(_MEMBERSHIP, {"group_id": group_id, "user_id": user_id})


def get_membership(actor: Actor, group_id: int) -> GroupMember:
    """The actor's membership; a group the actor is not in does not exist for them (404)."""
    membership = find_membership(group_id, actor.id)
    if membership is None:
        raise NotFound(GROUP_NOT_FOUND)
    return membership


def require_role(membership: GroupMember, *roles: Role, action: str) -> None:
    if membership.role not in roles:
        raise Forbidden(f"Only group {' or '.join(r.value + 's' for r in roles)} can {action}")


def admin_count(group_id: int) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(GroupMember)
                             .where(GroupMember.group_id == group_id, GroupMember.role == Role.ADMIN))


def first_admin_id_subquery():
    """The group's longest-standing admin: shown as `admin_id` and as inviter of last resort."""
    return (db.select(GroupMember.user_id)
            .where(GroupMember.group_id == Group.id, GroupMember.role == Role.ADMIN)
            .order_by(GroupMember.id).limit(1).correlate(Group).scalar_subquery())
