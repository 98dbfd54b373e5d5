"""Customer management: list and search, read one, change profile fields, disable and enable, roles."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import actor, data_of, fund, make_order, run_background, table_counts
from torium_api.actor import AppRole
from torium_api.admin.services import customers
from torium_api.errors import Forbidden
from torium_api.extensions import db
from torium_api.users.models import RoleGrant

WHY = {"reason": "support ticket 42"}


def test_admins_list_users_by_id_searchable_filterable_and_paged(app, client, shop):
    admin = shop.admin[1]
    client.post(f"/admin/users/{shop.other[0]}/disable", headers=admin, json=WHY)
    page = data_of(client.get("/admin/users?limit=2", headers=admin))
    assert [u["user_id"] for u in page["items"]] == [shop.admin[0], shop.seller[0]] and page["next_cursor"]
    rest = data_of(client.get(f"/admin/users?limit=2&cursor={page['next_cursor']}", headers=admin))
    assert [u["user_id"] for u in rest["items"]] == [shop.buyer[0], shop.other[0]] and rest["next_cursor"] is None
    assert [u["email"] for u in data_of(client.get("/admin/users?q=SELLER", headers=admin))["items"]] == \
        ["seller@shop.example"]
    disabled = data_of(client.get("/admin/users?status=disabled", headers=admin))["items"]
    assert [(u["user_id"], u["status"]) for u in disabled] == [(shop.other[0], "disabled")]
    sellers = data_of(client.get("/admin/users?role=seller", headers=admin))["items"]
    assert [(u["user_id"], u["roles"]) for u in sellers] == [(shop.seller[0], ["seller"])]
    assert data_of(client.get("/admin/users?q=%25", headers=admin))["items"] == []
    for bad in ("status=gone", "role=root", "limit=0", "cursor=!!", "colour=red"):
        assert client.get(f"/admin/users?{bad}", headers=admin).status_code == 422, bad


def test_one_user_with_profile_roles_status_balance_and_order_counts(app, client, shop):
    make_order(app, shop.buyer[0], shop.wax, status="completed")
    make_order(app, shop.buyer[0], shop.wax, status="completed")
    make_order(app, shop.buyer[0], shop.wax, status="failed")
    detail = data_of(client.get(f"/admin/users/{shop.buyer[0]}", headers=shop.admin[1]))
    assert detail["email"] == "buyer@shop.example" and detail["status"] == "active" and detail["roles"] == []
    assert (detail["balance_cents"], detail["currency"]) == (100_000, "PLN")
    assert detail["order_counts"] == {"completed": 2, "failed": 1}
    assert client.get("/admin/users/99999", headers=shop.admin[1]).status_code == 404


def test_profile_fields_change_with_a_reason_and_others_are_refused(app, client, shop):
    url = f"/admin/users/{shop.buyer[0]}"
    changed = data_of(client.patch(url, headers=shop.admin[1], json={
        "username": "Buyer B.", "timezone": "Asia/Tokyo", "reminder_preferences": "EMAIL", **WHY}))
    assert (changed["username"], changed["timezone"], changed["reminder_preferences"]) == \
        ("Buyer B.", "Asia/Tokyo", "EMAIL")
    before = table_counts(app)
    for body in ({"email": "x@example.com", **WHY}, {"timezone": "Mars/Olympus", **WHY}, {"username": "x"},
                 {"organization_id": 99_999, **WHY}, {"reminder_preferences": "SMS", **WHY},
                 {"organization_id": 1.5, **WHY},
                 WHY, {"username": "", **WHY}, {"reason": "", "username": "n"}, {"balance_cents": 1, **WHY}):
        assert client.patch(url, headers=shop.admin[1], json=body).status_code == 422, body
    assert table_counts(app) == before


def test_disabling_is_refused_for_yourself_and_twice_changes_nothing(app, client, shop):
    me = shop.admin
    assert client.post(f"/admin/users/{me[0]}/disable", headers=me[1], json=WHY).status_code == 409
    assert client.get("/users", headers=me[1]).status_code == 200
    client.post(f"/admin/users/{shop.other[0]}/disable", headers=me[1], json=WHY)
    before = table_counts(app)
    assert data_of(client.post(f"/admin/users/{shop.other[0]}/disable", headers=me[1], json=WHY))["status"] == \
        "disabled"
    counts = table_counts(app)
    assert counts["outbox_messages"] == before["outbox_messages"]  # already disabled: Cognito needs no new word
    assert counts["audit_entries"] == before["audit_entries"] + 1  # the attempt is still on record


def test_a_revoked_role_is_refused_at_once_then_only_for_tokens_issued_before_cognito_forgot_it(app, client, tokens,
                                                                                               shop):
    seller_id, seller = shop.seller
    assert client.post("/products", headers=seller, json={"name": "A", "category": "ski", "price_cents": 100}) \
        .status_code == 201
    revoked = data_of(client.delete(f"/admin/users/{seller_id}/roles/seller", headers=shop.admin[1], json=WHY))
    assert revoked["granted"] is False and revoked["takes_effect"].startswith("at once")
    assert client.post("/products", headers=seller, json={"name": "B", "category": "ski", "price_cents": 100}) \
        .status_code == 403  # the same token, still valid for hours: the role is gone
    assert client.get("/sellers/me/sales", headers=seller).status_code == 403
    run_background(app)  # Cognito (none here) is told: the revocation now covers tokens issued before that moment
    assert client.get("/sellers/me/sales", headers=seller).status_code == 403
    with app.app_context():
        grant = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == seller_id))
        assert grant.cognito_synced_at is not None
        # A minute later (moved back rather than waited for): a token Cognito issued since has no seller group ...
        grant.cognito_synced_at -= timedelta(seconds=60)
        db.session.commit()
    older = tokens.headers("seller@shop.example", groups=["seller"], iat=int(time.time()) - 120)
    assert client.get("/sellers/me/sales", headers=older).status_code == 403  # ... and older ones stay refused
    regrouped = tokens.headers("seller@shop.example", groups=["seller"])  # say, re-added in Cognito's console
    assert client.get("/sellers/me/sales", headers=regrouped).status_code == 200
    regranted = data_of(client.put(f"/admin/users/{seller_id}/roles/seller", headers=shop.admin[1], json=WHY))
    assert regranted["granted"] is True
    assert client.get("/sellers/me/sales", headers=seller).status_code == 200  # the old token carries it again


def test_a_granted_role_arrives_with_the_next_token(app, client, tokens, shop):
    buyer_id, buyer = shop.buyer
    data_of(client.put(f"/admin/users/{buyer_id}/roles/seller", headers=shop.admin[1], json=WHY))
    assert client.get("/sellers/me/sales", headers=buyer).status_code == 403  # the old token has no seller group
    assert client.get("/sellers/me/sales", headers=tokens.headers("buyer@shop.example", groups=["seller"])) \
        .status_code == 200
    detail = data_of(client.get(f"/admin/users/{buyer_id}", headers=shop.admin[1]))
    assert detail["roles"] == ["seller"]


def test_roles_seen_in_tokens_are_known_and_admins_keep_their_own(app, client, tokens, shop):
    first_admin = tokens.headers("founder@shop.example", groups=["admin"])  # made in Cognito, never by the API
    founder_id = data_of(client.get("/users", headers=first_admin))["user_id"]
    assert data_of(client.get(f"/admin/users/{founder_id}", headers=shop.admin[1]))["roles"] == ["admin"]
    own = client.delete(f"/admin/users/{founder_id}/roles/admin", headers=first_admin, json=WHY)
    assert own.status_code == 409
    assert client.put(f"/admin/users/{founder_id}/roles/root", headers=first_admin, json=WHY).status_code == 404
    assert client.get("/admin/users", headers=first_admin).status_code == 200


def test_an_admin_erases_a_user_with_a_reason(app, client, shop):
    other_id, other = shop.other
    erased = data_of(client.delete(f"/admin/users/{other_id}", headers=shop.admin[1], json=WHY))
    assert erased["status"] == "deleted" and erased["user_id"] == other_id
    assert client.get("/users", headers=other).status_code == 401
    detail = data_of(client.get(f"/admin/users/{other_id}", headers=shop.admin[1]))
    assert (detail["status"], detail["email"]) == ("deleted", "")
    assert client.delete(f"/admin/users/{other_id}", headers=shop.admin[1], json=WHY).status_code == 409
    assert client.post(f"/admin/users/{other_id}/enable", headers=shop.admin[1], json=WHY).status_code == 409


def test_erasure_is_refused_while_money_or_listings_remain(app, client, shop):
    assert client.delete(f"/admin/users/{shop.buyer[0]}", headers=shop.admin[1], json=WHY).status_code == 409
    assert client.delete(f"/admin/users/{shop.seller[0]}", headers=shop.admin[1], json=WHY).status_code == 409
    fund(app, shop.other[0], 1)
    response = client.delete("/users/me", headers=shop.other[1])
    assert response.status_code == 409 and "withdraw" in response.get_json()["status"]["message"]


def test_the_back_office_services_refuse_non_admins_behind_the_blueprints_guard(app, shop):
    """Default deny twice: a service called by anything but the admin blueprint (a CLI, a handler, a future
    view) refuses a caller who is not an admin, before it reads anything."""
    with app.app_context():
        for who, roles in ((shop.seller[0], (AppRole.SELLER,)), (shop.buyer[0], ())):
            with pytest.raises(Forbidden):
                customers.user_detail(actor(who, *roles), shop.other[0])
            with pytest.raises(Forbidden):
                customers.ledger(actor(who, *roles), shop.other[0])
        assert customers.user_detail(actor(shop.admin[0], AppRole.ADMIN), shop.other[0])["user_id"] == shop.other[0]

