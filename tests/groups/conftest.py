from dataclasses import dataclass

import pytest

from tests.factories import Cast, make_group

ROLES = ("admin", "moderator", "standard", "invited", "stranger")


@dataclass
class World(Cast):
    """A group with one user per relationship to it, plus an outsider and a second standard member."""

    group_id: int
    ids: dict
    headers: dict


@pytest.fixture
def world(app, tokens) -> World:
    ids, headers = {}, {}
    for who in (*ROLES, "outsider", "other"):
        ids[who], headers[who] = tokens.user(f"{who}@example.com")
    group_id = make_group(app, ids["admin"], invited=[ids["invited"]], members={
        ids["moderator"]: "moderator", ids["standard"]: "standard", ids["other"]: "standard"})
    headers["anonymous"] = {}
    return World(group_id, ids, headers)
