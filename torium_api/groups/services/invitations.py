"""Invitations: invite (emits groups.invitation_sent), answer, list and count the pending ones."""

from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from torium_api import queues, quotas
from torium_api.actor import Actor
from torium_api.errors import Conflict, NotFound
from torium_api.extensions import db
from torium_api.groups.models import Group, GroupInvitation, GroupMember, InvitationStatus, Role
from torium_api.groups.services.access import find_membership, get_membership, lock_group, require_role
from torium_api.outbox import emit
from torium_api.paging import rows_digest
from torium_api.users import services as users
from torium_api.users.models import User

_PENDING = GroupInvitation.status == InvitationStatus.PENDING


def invite_member(actor: Actor, group_id: int, user_id: int) -> GroupInvitation:
    lock_group(group_id)
    require_role(get_membership(actor, group_id), Role.ADMIN, Role.MODERATOR, action="invite members")
    quotas.enforce("invitations", GroupInvitation.created_at, GroupInvitation.invited_by_id == actor.id,
                   limit=current_app.config["QUOTA_INVITATIONS_PER_DAY"], window=timedelta(days=1))
    invitee = users.get_user(user_id)
    if find_membership(group_id, invitee.id):
        raise Conflict("This user is already a member of the group")
    _check_capacity(group_id)
    invitation = GroupInvitation(group_id=group_id, user_id=invitee.id, invited_by_id=actor.id,
                                 status=InvitationStatus.PENDING)
    db.session.add(invitation)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("This user has already been invited") from None
    emit("groups.invitation_sent", {"invitation_id": invitation.id}, queue=queues.NOTIFICATIONS)
    return invitation


def _check_capacity(group_id: int) -> None:
    limit = current_app.config["MAX_GROUP_MEMBERS"]
    members = db.session.scalar(db.select(db.func.count()).select_from(GroupMember)
                                .where(GroupMember.group_id == group_id))
    pending = db.session.scalar(db.select(db.func.count()).select_from(GroupInvitation)
                                .where(GroupInvitation.group_id == group_id, _PENDING))
    if members + pending >= limit:
        raise Conflict(f"A group has at most {limit} members and pending invitations")


def answer_invitation(actor: Actor, group_id: int, accept: bool) -> None:
    """Only the invitee answers. Answering "confirmed" again once a member changes nothing."""
    lock_group(group_id)
    invitation = db.session.scalar(db.select(GroupInvitation).where(
        GroupInvitation.group_id == group_id, GroupInvitation.user_id == actor.id, _PENDING))
    if invitation is None:
        if accept and find_membership(group_id, actor.id):
            return
        raise NotFound("No pending invitation to this group")
    invitation.answer(accept)
    if accept:
        db.session.add(GroupMember(group_id=group_id, user_id=actor.id, role=Role.STANDARD))


def list_invitations(actor: Actor) -> list[dict]:
    invitations = db.session.scalars(
        db.select(GroupInvitation).where(GroupInvitation.user_id == actor.id, _PENDING)
        .order_by(GroupInvitation.id.desc())).all()
    return [{"group_id": i.group_id, "name": i.group.name, "email": i.invited_by.email if i.invited_by else ""}
            for i in invitations]


def invitations_digest(actor: Actor) -> str:
    """The ETag digest of ``list_invitations``: what it renders (group, its name, the inviter's e-mail), in its
    order, computed in PostgreSQL."""
    rendered = (db.select(GroupInvitation.id, GroupInvitation.group_id, Group.name, User.email)
                .join(Group, Group.id == GroupInvitation.group_id)
                .outerjoin(User, User.id == GroupInvitation.invited_by_id)
                .where(GroupInvitation.user_id == actor.id, _PENDING))
    return rows_digest(rendered, lambda rows: [rows.c.id.desc()])


def count_invitations(actor: Actor) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(GroupInvitation)
                             .where(GroupInvitation.user_id == actor.id, _PENDING))


def find_pending_invitation(invitation_id: int) -> GroupInvitation | None:
    return db.session.scalar(db.select(GroupInvitation).where(GroupInvitation.id == invitation_id, _PENDING))


