"""Members: list, remove (or leave), change roles. A group always keeps an admin."""

from torium_api.errors import Conflict, Forbidden, NotFound
from torium_api.extensions import db
from torium_api.groups.models import GroupMember, Role
from torium_api.groups.services.access import (
    admin_count,
    find_membership,
    get_membership,
    lock_group,
    require_role,
)
from torium_api.users.models import User

LAST_ADMIN = "A group must keep at least one admin: make someone else admin first"


def list_members(actor: User, group_id: int, page: int, page_size: int) -> tuple[list[GroupMember], int]:
    """The group's other members (the contract excludes the caller); members only."""
    get_membership(actor, group_id)
    others = (GroupMember.group_id == group_id) & (GroupMember.user_id != actor.id)
    members = db.session.scalars(db.select(GroupMember).where(others).order_by(GroupMember.id)
                                 .limit(page_size).offset((page - 1) * page_size)).all()
    total = db.session.scalar(db.select(db.func.count()).select_from(GroupMember).where(others))
    return list(members), total


def _target(group_id: int, user_id: int) -> GroupMember:
    target = find_membership(group_id, user_id)
    if target is None:
        raise NotFound("This user is not a member of the group")
    return target


def remove_member(actor: User, group_id: int, user_id: int) -> None:
    """Admins remove anyone, moderators standard members; anyone may leave."""
    lock_group(group_id)
    me = get_membership(actor, group_id)
    target = _target(group_id, user_id)
    if target.id != me.id:
        require_role(me, Role.ADMIN, Role.MODERATOR, action="remove members")
        if not me.outranks(target):
            raise Forbidden("Moderators cannot remove admins or other moderators")
    if target.role is Role.ADMIN and admin_count(group_id) == 1:
        raise Conflict(LAST_ADMIN)
    db.session.delete(target)


def change_role(actor: User, group_id: int, user_id: int, role: Role) -> GroupMember:
    lock_group(group_id)
    me = get_membership(actor, group_id)
    require_role(me, Role.ADMIN, action="change roles")
    target = _target(group_id, user_id)
    if target.role is Role.ADMIN and role is not Role.ADMIN and admin_count(group_id) == 1:
        raise Conflict(LAST_ADMIN)
    target.role = role
    return target
