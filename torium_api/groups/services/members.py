"""Members: list, remove (or leave), change roles. A group always keeps an admin."""

from sqlalchemy import bindparam

from torium_api import queues
from torium_api.actor import Actor
from torium_api.errors import Conflict, Forbidden, NotFound
from torium_api.extensions import db
from torium_api.groups.models import GroupInvitation, GroupMember, InvitationStatus, Role
from torium_api.groups.services.access import (
    admin_count,
    find_membership,
    get_membership,
    lock_group,
    require_role,
)
from torium_api.outbox import emit
from torium_api.paging import offset_page, paged
from torium_api.users.models import User

LAST_ADMIN = "A group must keep at least one admin: make someone else admin first"


_OTHER_MEMBERS = paged(db.select(GroupMember.user_id, User.username, User.email, GroupMember.role)
                       .join(User, User.id == GroupMember.user_id)
                       .where(GroupMember.group_id == bindparam("group_id"), GroupMember.user_id != bindparam("actor"))
                       .order_by(GroupMember.id))


def list_members(actor: Actor, group_id: int, page: int, page_size: int) -> tuple[list[dict], int]:
    """The group's other members (the contract excludes the caller); members only."""
    get_membership(actor, group_id)
    rows, total = offset_page(_OTHER_MEMBERS, page, page_size, group_id=group_id, actor=actor.id)
    return [{"user_id": user_id, "username": username, "email": email, "status": role.value}
            for user_id, username, email, role in rows], total


def _target(group_id: int, user_id: int) -> GroupMember:
    target = find_membership(group_id, user_id)
    if target is None:
        raise NotFound("This user is not a member of the group")
    return target


def remove_member(actor: Actor, group_id: int, user_id: int) -> None:
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


def change_role(actor: Actor, group_id: int, user_id: int, role: Role) -> GroupMember:
    lock_group(group_id)
    me = get_membership(actor, group_id)
    require_role(me, Role.ADMIN, action="change roles")
    target = _target(group_id, user_id)
    if target.role is Role.ADMIN and role is not Role.ADMIN and admin_count(group_id) == 1:
        raise Conflict(LAST_ADMIN)
    target.role = role
    return target


def leave_all_groups(user_id: int) -> None:
    """A user who deletes their account leaves every group (each locked in id order). A group whose only admin
    leaves passes to its longest-standing member, who becomes admin; a group left empty is deleted. Invitations
    waiting for the user go too."""
    group_ids = db.session.scalars(db.select(GroupMember.group_id).where(GroupMember.user_id == user_id)
                                   .order_by(GroupMember.group_id)).all()
    for group_id in group_ids:
        group = lock_group(group_id)
        leaving = find_membership(group_id, user_id)
        heir = db.session.scalar(db.select(GroupMember).where(GroupMember.group_id == group_id,
                                                              GroupMember.user_id != user_id)
                                 .order_by(GroupMember.id).limit(1))
        if heir is None:
            db.session.delete(group)
            emit("groups.group_deleted", {"group_id": group_id, "topic": f"group:{group_id}"},
                 queue=queues.NOTIFICATIONS)
            continue
        if leaving.role is Role.ADMIN and admin_count(group_id) == 1:
            heir.role = Role.ADMIN
        db.session.delete(leaving)
    db.session.execute(db.delete(GroupInvitation).where(GroupInvitation.user_id == user_id,
                                                        GroupInvitation.status == InvitationStatus.PENDING))
