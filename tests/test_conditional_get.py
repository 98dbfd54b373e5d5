"""Conditional GETs of the app's lists and the product listing: a weak ETag computed in PostgreSQL from the page
(web.Blueprint.conditional, paging), 304 with no body while it is current, a new tag whenever the page would render
differently."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import literal, select, update

from tests.factories import count_queries, data_of, make_comment, make_event, make_group, make_product, make_user
from torium_api import clock
from torium_api.extensions import db

LISTS = ["/groups", "/groups/invitation", "/group/members", "/event", "/event/comment", "/products"]


@pytest.fixture
def world(app, tokens):
    """Ada (admin of a group with Bob and an event with a comment, invited to Carol's group) and her headers."""
    ada, headers = tokens.user("ada@example.com")  # a customer: tokens with roles cost one more query (revocations)
    bob, carol = make_user(app, "bob@example.com"), make_user(app, "carol@example.com")
    group = make_group(app, ada, members={bob: "standard"}, name="Chess")
    make_group(app, carol, invited=[ada], name="Carol's")
    event = make_event(app, group, ada, [bob], name="Tournament")
    comment = make_comment(app, event, bob, "I'll bring snacks")
    product = make_product(app, ada, name="Wax")
    return {"ada": ada, "bob": bob, "carol": carol, "group": group, "event": event, "comment": comment,
            "product": product, "headers": headers}


def _get(client, world, path, etag=None):
    addressed = {"/group/members": {"trm-group-id": str(world["group"])},
                 "/event/comment": {"trm-event-id": str(world["event"])}}.get(path, {})
    return client.get(path, headers={**world["headers"], **addressed, **({"If-None-Match": etag} if etag else {})})


def _etag(client, world, path) -> str:
    response = _get(client, world, path)
    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"].startswith('W/"'), path
    return response.headers["ETag"]


@pytest.mark.parametrize("path", LISTS)
def test_an_unchanged_list_answers_304_with_no_body_and_the_same_etag(client, world, path):
    first = _get(client, world, path)
    assert first.status_code == 200 and data_of(first)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and _etag(client, world, path) == etag  # stable across requests
    again = _get(client, world, path, etag)
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag and again.headers["X-Request-ID"]
    assert _get(client, world, path, f'"other", {etag}').status_code == 304  # one of several tags
    assert _get(client, world, path, etag.removeprefix("W/")).status_code == 304  # weak comparison
    assert _get(client, world, path, "*").status_code == 304
    assert _get(client, world, path, 'W/"stale"').status_code == 200


@pytest.mark.parametrize("path", [path for path in LISTS if path != "/event"])
def test_a_304_costs_fewer_queries_than_the_200_and_reads_no_page(app, client, world, path):
    etag = _etag(client, world, path)
    with count_queries(app) as full:
        assert _get(client, world, path).status_code == 200
    with count_queries(app) as revalidated:
        assert _get(client, world, path, etag).status_code == 304
    assert len(revalidated) <= len(full), (full, revalidated)
    digests = [sql for sql in revalidated if "md5(" in sql]
    assert len(digests) == 1 and "row_number()" not in digests[0]  # the digest alone, not the page with it


def test_the_events_304_reads_what_the_200_reads_and_renders_nothing(app, client, world):
    """The events page's digest covers its members, which its 200 reads anyway (paged(completed_by_service)): its
    304 runs the 200's statements, no digest-only one (which would read the members a second time)."""
    etag = _etag(client, world, "/event")
    with count_queries(app) as full:
        assert _get(client, world, "/event").status_code == 200
    with count_queries(app) as revalidated:
        unchanged = _get(client, world, "/event", etag)
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert revalidated == full


def test_the_apps_lists_cost_one_query_after_the_user_when_unchanged(app, client, world):
    # The user, then the digest; after the membership check, or (GET /event) the page whose members complete it.
    for path, expected in {"/groups": 2, "/groups/invitation": 2, "/products": 2, "/group/members": 3,
                           "/event/comment": 3, "/event": 3}.items():
        etag = _etag(client, world, path)
        with count_queries(app) as statements:
            assert _get(client, world, path, etag).status_code == 304
        assert len(statements) == expected, (path, statements)


def test_a_client_outside_the_group_gets_404_not_304(app, client, world, tokens):
    etag = _etag(client, world, "/group/members")
    _, outsider = tokens.user("eve@example.com")
    response = client.get("/group/members", headers={**outsider, "trm-group-id": str(world["group"]),
                                                     "If-None-Match": etag})
    assert response.status_code == 404


def _changes(app, world, statement) -> None:
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


def test_a_member_role_change_changes_the_member_list_the_group_list_and_the_events(app, client, world, tokens):
    from torium_api.groups.models import GroupMember, Role

    bob_headers = {**tokens.headers("bob@example.com"), "trm-group-id": str(world["group"])}
    before = {path: client.get(path, headers=bob_headers).headers["ETag"] for path in ("/groups", "/event")}
    members = _etag(client, world, "/group/members")
    _changes(app, world, update(GroupMember).where(GroupMember.user_id == world["bob"]).values(role=Role.MODERATOR))
    assert _get(client, world, "/group/members", members).status_code == 200
    for path, etag in before.items():
        response = client.get(path, headers={**bob_headers, "If-None-Match": etag})
        assert response.status_code == 200 and response.headers["ETag"] != etag, path


def test_a_renamed_group_changes_every_list_that_shows_its_name(app, client, world):
    from torium_api.groups.models import Group

    before = {path: _etag(client, world, path) for path in ("/groups", "/event", "/groups/invitation")}
    _changes(app, world, update(Group).values(name="Renamed"))
    for path, etag in before.items():
        response = _get(client, world, path, etag)
        assert response.status_code == 200 and response.headers["ETag"] != etag, path  # Carol's too: the invitation


def test_an_event_moving_from_upcoming_to_past_changes_the_events_etag(app, client, world, monkeypatch):
    now = clock.now()
    make_event(app, world["group"], world["ada"], name="Later", starts_at=now + timedelta(days=60))
    with app.app_context():
        from torium_api.events.models import Event

        db.session.execute(update(Event).where(Event.name == "Tournament").values(starts_at=now + timedelta(hours=1)))
        db.session.commit()
    etag = _etag(client, world, "/event")
    assert [e["name"] for e in data_of(_get(client, world, "/event"))] == ["Tournament", "Later"]
    monkeypatch.setattr(clock, "now", lambda: now + timedelta(hours=2))
    moved = _get(client, world, "/event", etag)
    assert moved.status_code == 200 and moved.headers["ETag"] != etag
    assert [e["name"] for e in data_of(moved)] == ["Later", "Tournament"]


def test_event_members_their_emails_and_the_callers_zone_change_the_events_etag(app, client, world):
    from torium_api.users.models import User

    etag = _etag(client, world, "/event")
    _changes(app, world, update(User).where(User.id == world["bob"]).values(email="robert@example.com"))
    renamed = _get(client, world, "/event", etag)
    assert renamed.status_code == 200 and "robert@example.com" in renamed.get_data(as_text=True)
    etag = renamed.headers["ETag"]
    _changes(app, world, update(User).where(User.id == world["ada"]).values(timezone="Asia/Tokyo"))
    moved = _get(client, world, "/event", etag)
    assert moved.status_code == 200 and moved.headers["ETag"] != etag


def test_a_new_comment_and_the_passing_of_time_change_the_comments_etag(app, client, world, monkeypatch):
    etag = _etag(client, world, "/event/comment")
    make_comment(app, world["event"], world["ada"], "See you there")
    fresh = _get(client, world, "/event/comment", etag)
    assert fresh.status_code == 200 and len(data_of(fresh)) == 2
    etag = fresh.headers["ETag"]
    assert _get(client, world, "/event/comment", etag).status_code == 304
    later = clock.now() + timedelta(minutes=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    aged = _get(client, world, "/event/comment", etag)  # "0s ago" is now "2min ago"
    assert aged.status_code == 200 and data_of(aged)[0]["event_timestamp"] == "2min ago"


def test_an_edited_or_restocked_product_changes_the_listing_etag(app, client, world, tokens):
    etag = _etag(client, world, "/products")
    seller = tokens.headers("ada@example.com", ["seller"])  # Ada sells the product she listed
    product = client.get(f"/products/{world['product']}", headers=seller)
    edited = client.patch(f"/products/{world['product']}", json={"price_cents": 100},
                          headers={**seller, "If-Match": product.headers["ETag"]})
    assert edited.status_code == 200
    changed = _get(client, world, "/products", etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    etag = changed.headers["ETag"]
    assert client.post(f"/products/{world['product']}/restock", json={"quantity": 1},
                       headers=seller).status_code == 200  # stock moves without a new version
    assert _get(client, world, "/products", etag).status_code == 200


def test_page_parameters_are_part_of_the_tag(app, client, world):
    for i in range(3):
        make_group(app, world["ada"], name=f"G{i}")
    tags = {_etag(client, world, f"/groups?page={page}&page_size={size}") for page, size in [(1, 2), (2, 2), (1, 3)]}
    assert len(tags) == 3
    past_the_end = _get(client, world, "/groups?page=9&page_size=2")
    assert past_the_end.status_code == 200 and "ETag" not in past_the_end.headers  # its total is not in a row
    assert json.loads(past_the_end.headers["X-Pagination"])["total"] == 4


def test_an_empty_first_page_has_a_tag_too(client, tokens):
    _, headers = tokens.user("new@example.com")
    first = client.get("/groups", headers=headers)
    assert data_of(first) == [] and first.headers["ETag"].startswith('W/"')
    assert client.get("/groups", headers={**headers, "If-None-Match": first.headers["ETag"]}).status_code == 304


def test_writes_and_errors_carry_no_list_etag(client, world):
    assert "ETag" not in client.post("/groups", json={"name": "N", "description": ""}, headers=world["headers"]).headers
    missing = client.get("/event/comment", headers={**world["headers"], "trm-event-id": "999"})
    assert missing.status_code == 404 and "ETag" not in missing.headers


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(st.integers(min_value=-10, max_value=3 * 365 * 86400), st.integers(min_value=0, max_value=999_999))
def test_the_comment_age_in_sql_is_the_age_the_list_shows(app, seconds, micros):
    """The comments' ETag digest renders each comment's age in SQL (comments.age_sql): it must be the text the
    list shows (comments.age), or a page could change without its tag."""
    from torium_api.events.services.comments import age, age_sql

    now = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    created_at = now - timedelta(seconds=seconds, microseconds=micros)
    with app.app_context():
        in_sql = db.session.scalar(select(age_sql(literal(created_at), literal(now))))
    assert in_sql == age(created_at, now)
