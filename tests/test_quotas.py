"""Quotas on what grows without bound or reaches other people: each answers 429 with a Retry-After that says
when the oldest counted item leaves the window, and a refusal writes nothing."""

import pytest

from tests.factories import EVENT, make_event, make_group, run_background, table_counts


@pytest.fixture
def admin(app, tokens):
    user_id, headers = tokens.user("busy@example.com")
    return user_id, headers


def _refused(response, window_seconds: int) -> None:
    assert response.status_code == 429, response.get_json()
    assert 1 <= int(response.headers["Retry-After"]) <= window_seconds
    assert response.get_json()["status"]["code"] == 429


def test_events_created_per_day(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "QUOTA_EVENTS_PER_DAY", 2)
    group = make_group(app, admin[0])
    headers = {**admin[1], "trm-group-id": str(group)}
    for _ in range(2):
        assert client.post("/event", headers=headers, json={**EVENT, "users": []}).status_code == 200
    before = table_counts(app)
    _refused(client.post("/event", headers=headers, json={**EVENT, "users": []}), 86400)
    assert table_counts(app) == before


def test_comments_per_hour(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "QUOTA_COMMENTS_PER_HOUR", 3)
    event = make_event(app, make_group(app, admin[0]), admin[0])
    for i in range(3):
        assert client.post("/event/comment", headers=admin[1], json={"event_id": event, "comment": f"c{i}"}) \
            .status_code == 200
    _refused(client.post("/event/comment", headers=admin[1], json={"event_id": event, "comment": "one more"}), 3600)


def test_invitations_per_day(app, client, tokens, admin, monkeypatch):
    monkeypatch.setitem(app.config, "QUOTA_INVITATIONS_PER_DAY", 2)
    group = make_group(app, admin[0])
    invitees = [tokens.user(f"friend{i}@example.com")[0] for i in range(3)]
    statuses = [client.post("/group/members", json={}, headers={**admin[1], "trm-group-id": str(group),
                                                                "trm-user-id": str(i)}).status_code for i in invitees]
    assert statuses == [200, 200, 429]


def test_groups_created_per_day_and_owned(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "QUOTA_GROUPS_PER_DAY", 2)
    body = {"name": "G", "description": ""}
    assert [client.post("/groups", headers=admin[1], json=body).status_code for _ in range(3)] == [200, 200, 429]
    monkeypatch.setitem(app.config, "QUOTA_GROUPS_PER_DAY", 100)
    monkeypatch.setitem(app.config, "MAX_GROUPS_OWNED", 3)
    assert client.post("/groups", headers=admin[1], json=body).status_code == 200  # admin of 3 now
    refused = client.post("/groups", headers=admin[1], json=body)
    _refused(refused, 86400)
    assert "admin of 3 groups" in refused.get_json()["status"]["message"]


def test_a_busy_comment_thread_pushes_each_member_once_per_interval(app, client, tokens, sqs):
    """Every comment used to push every other member: 500 members × a chatty thread."""
    host, host_headers = tokens.user("host@example.com")
    guests = [tokens.user(f"guest{i}@example.com") for i in range(3)]
    group = make_group(app, host, members={g[0]: "standard" for g in guests})
    event = make_event(app, group, host, [g[0] for g in guests])
    for i in range(5):
        client.post("/event/comment", headers=guests[i % 3][1], json={"event_id": event, "comment": f"line {i}"})
    run_background(app)
    from torium_api.extensions import db
    from torium_api.notifications.models import NotificationDelivery

    with app.app_context():
        bodies = db.session.scalars(db.select(NotificationDelivery.body).where(
            NotificationDelivery.subject.like("New comment%"))).all()
    # one comment (whichever the workers handled first) pushed to its three other members; the rest stay in the app
    assert len(bodies) == 3 and len(set(bodies)) == 1 and bodies[0].split(": ")[1].startswith("line ")


def test_the_comment_list_is_paged_newest_first(app, client, admin):
    event = make_event(app, make_group(app, admin[0]), admin[0])
    for i in range(5):
        client.post("/event/comment", headers=admin[1], json={"event_id": event, "comment": f"c{i}"})
    headers = {**admin[1], "trm-event-id": str(event)}
    first = client.get("/event/comment", headers=headers)  # as the app asks: no paging parameters
    assert [c["comment"] for c in first.get_json()["data"]] == ["c4", "c3", "c2", "c1", "c0"]
    second = client.get("/event/comment?page=2&page_size=2", headers=headers)
    assert [c["comment"] for c in second.get_json()["data"]] == ["c2", "c1"]
    assert '"total": 5' in second.headers["X-Pagination"]
