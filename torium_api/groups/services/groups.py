"""Groups: create, list, rename, delete."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam

from torium_api import queues, quotas
from torium_api.actor import Actor
from torium_api.errors import Forbidden
from torium_api.extensions import db
from torium_api.groups.models import Group, GroupMember, Role
from torium_api.groups.services.access import first_admin_id_subquery, get_membership, lock_group, require_role
from torium_api.outbox import emit
from torium_api.paging import offset_page, paged


def create_group(actor: Actor, name: str, description: str) -> Group:
    config = current_app.config
    quotas.enforce("new groups", Group.created_at, Group.created_by_id == actor.id,
                   limit=config["QUOTA_GROUPS_PER_DAY"], window=timedelta(days=1))
    owned = db.session.scalar(db.select(db.func.count()).select_from(GroupMember)
                              .where(GroupMember.user_id == actor.id, GroupMember.role == Role.ADMIN))
    if owned >= config["MAX_GROUPS_OWNED"]:
        quotas.refuse(f"You are an admin of {owned} groups, the most one person may be: leave or delete one first",
                      retry_after=timedelta(days=1))
    group = Group(name=name, description=description, created_by_id=actor.id)
    db.session.add(group)
    db.session.flush()
    db.session.add(GroupMember(group_id=group.id, user_id=actor.id, role=Role.ADMIN))
    return group


_MY_GROUPS = paged(db.select(Group.id, Group.name, Group.description, GroupMember.role,
                             first_admin_id_subquery().label("admin_id"))
                   .join(GroupMember, (GroupMember.group_id == Group.id) & (GroupMember.user_id == bindparam("actor")))
                   .order_by(Group.id))


def list_groups(actor: Actor, page: int, page_size: int) -> tuple[list[dict], int]:
    """The actor's groups, each once, with the actor's role: one query, whatever the count."""
    rows, total = offset_page(_MY_GROUPS, page, page_size, actor=actor.id)
    return [{"group_id": group_id, "name": name, "description": description, "status": role.value,
             "admin_id": admin_id} for group_id, name, description, role, admin_id in rows], total


def update_group(actor: Actor, group_id: int, name: str, description: str, admin_id: int | None = None) -> Group:
    if admin_id is not None and admin_id != actor.id:
        raise Forbidden("admin_id does not match the authenticated user")
    group = lock_group(group_id)
    require_role(get_membership(actor, group_id), Role.ADMIN, action="edit the group")
    group.name, group.description = name, description
    return group


def delete_group(actor: Actor, group_id: int) -> None:
    """Members, invitations, events and all under them go too (ON DELETE CASCADE); the delivery log is
    forgotten by the notifications domain when it handles ``groups.group_deleted``."""
    group = lock_group(group_id)
    require_role(get_membership(actor, group_id), Role.ADMIN, action="delete the group")
    db.session.delete(group)
    emit("groups.group_deleted", {"group_id": group_id, "topic": f"group:{group_id}"}, queue=queues.NOTIFICATIONS)
