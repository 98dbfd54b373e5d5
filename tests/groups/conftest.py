from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from tests.factories import Cast, make_group
from torium_api.extensions import db
from torium_api.groups.models import Group, GroupInvitation, GroupMember
from torium_api.outbox.models import OutboxMessage

ROLES = ("admin", "moderator", "standard", "invited", "stranger")


@dataclass
class World(Cast):
    """A group with one user per relationship to it, plus an outsider and a second standard member."""

    group_id: int
    ids: dict
    headers: dict


@pytest.fixture
def world(app, client, tokens) -> World:
    ids, headers = {}, {}
    for who in (*ROLES, "outsider", "other"):
        ids[who], headers[who] = tokens.signed_in_user(client, f"{who}@example.com")
    group_id = make_group(app, ids["admin"], invited=[ids["invited"]], members={
        ids["moderator"]: "moderator", ids["standard"]: "standard", ids["other"]: "standard"})
    headers["anonymous"] = {}
    return World(group_id, ids, headers)


def snapshot(app) -> tuple:
    """Everything the group routes can change."""
    with app.app_context():
        groups = db.session.execute(select(Group.id, Group.name, Group.description).order_by(Group.id)).all()
        members = db.session.execute(select(GroupMember.group_id, GroupMember.user_id, GroupMember.role)
                                     .order_by(GroupMember.id)).all()
        invitations = db.session.execute(select(GroupInvitation.group_id, GroupInvitation.user_id,
                                                GroupInvitation.status).order_by(GroupInvitation.id)).all()
        outbox = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        return groups, members, invitations, outbox
