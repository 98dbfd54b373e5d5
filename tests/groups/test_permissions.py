"""The permission matrix: every group route × every relationship to the group.

Each cell is the expected HTTP status; every refusal must leave the data exactly as it was.
"""

import pytest

from tests.factories import group_snapshot

WHO = ("admin", "moderator", "standard", "invited", "stranger", "anonymous")


def _routes():
    """(name, method, path, headers(world, who), json(world), {who: status})"""
    g = "group_id"
    return [
        ("list groups", "get", "/groups", lambda w, who: w.h(who), lambda w: None,
         dict(admin=200, moderator=200, standard=200, invited=200, stranger=200)),
        ("create group", "post", "/groups", lambda w, who: w.h(who), lambda w: {"name": "New", "description": ""},
         dict(admin=200, moderator=200, standard=200, invited=200, stranger=200)),
        ("edit group", "put", "/groups", lambda w, who: w.h(who),
         lambda w: {"id": w.group_id, "name": "Renamed", "description": "d"},
         dict(admin=200, moderator=403, standard=403, invited=404, stranger=404)),
        ("delete group", "delete", "/groups", lambda w, who: w.h(who), lambda w: {"id": w.group_id},
         dict(admin=200, moderator=403, standard=403, invited=404, stranger=404)),
        ("list invitations", "get", "/groups/invitation", lambda w, who: w.h(who), lambda w: None,
         dict(admin=200, moderator=200, standard=200, invited=200, stranger=200)),
        ("count invitations", "get", "/groups/invitation/count", lambda w, who: w.h(who), lambda w: None,
         dict(admin=200, moderator=200, standard=200, invited=200, stranger=200)),
        ("list members", "get", "/group/members", lambda w, who: w.h(who, **{g: w.group_id}), lambda w: None,
         dict(admin=200, moderator=200, standard=200, invited=404, stranger=404)),
        ("invite", "post", "/group/members",
         lambda w, who: w.h(who, group_id=w.group_id, user_id=w.ids["outsider"]), lambda w: {},
         dict(admin=200, moderator=200, standard=403, invited=404, stranger=404)),
        ("remove member", "delete", "/group/members",
         lambda w, who: w.h(who, group_id=w.group_id, user_id=w.ids["other"]), lambda w: {},
         dict(admin=200, moderator=200, standard=403, invited=404, stranger=404)),
        ("answer invitation", "patch", "/group/members/status", lambda w, who: w.h(who, group_id=w.group_id),
         lambda w: {"status": "rejected"},
         dict(admin=404, moderator=404, standard=404, invited=200, stranger=404)),
        ("change role", "patch", "/group/members/role", lambda w, who: w.h(who, group_id=w.group_id),
         lambda w: {"status": "moderator", "user_id": w.ids["other"]},
         dict(admin=200, moderator=403, standard=403, invited=404, stranger=404)),
    ]


CASES = [pytest.param(route, who, id=f"{route[0]}-{who}") for route in _routes() for who in WHO]


@pytest.mark.parametrize("route, who", CASES)
def test_permission_matrix(app, client, world, route, who):
    name, method, path, headers, body, expected = route
    expected = {**expected, "anonymous": 401}[who]
    before = group_snapshot(app)
    response = client.open(path, method=method.upper(), headers=headers(world, who), json=body(world))
    assert response.status_code == expected, (name, who, response.get_json())
    assert response.get_json()["status"]["code"] == expected
    if expected >= 400:
        assert group_snapshot(app) == before, f"{name} by {who} was refused but changed data"


def test_every_group_route_is_in_the_matrix(app):
    covered = {(method.upper(), path) for _, method, path, *_ in _routes()}
    group_rules = {(m, r.rule) for r in app.url_map.iter_rules() if r.endpoint.startswith("groups.")
                   for m in r.methods - {"HEAD", "OPTIONS"}}
    assert group_rules == covered
