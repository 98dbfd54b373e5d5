"""The audit log: every admin action, in the same transaction as the action; paged and filtered by admins."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy import update

from tests.factories import data_of, table_counts
from torium_api.audit import AuditEntry
from torium_api.extensions import db

WHY = {"reason": "routine check"}


def _audit(client, headers, query="") -> list[dict]:
    return data_of(client.get(f"/admin/audit{query}", headers=headers))["items"]


def test_each_admin_action_is_logged_with_who_what_target_states_reason_and_request(app, client, tokens, shop):
    admin_id, admin = shop.admin
    response = client.post(f"/admin/users/{shop.other[0]}/disable", json={"reason": "chargeback fraud"},
                           headers={**admin, "X-Request-ID": "req-audit-0001"})
    assert response.status_code == 200
    [entry] = _audit(client, admin)
    assert {k: entry[k] for k in ("actor_id", "action", "target_type", "target_id", "reason", "request_id")} == {
        "actor_id": admin_id, "action": "users.disable", "target_type": "user", "target_id": shop.other[0],
        "reason": "chargeback fraud", "request_id": "req-audit-0001"}
    assert entry["before"]["status"] == "active" and entry["after"]["status"] == "disabled"
    assert "email" not in entry["before"] and entry["created_at"]


def test_a_refused_action_leaves_no_entry(app, client, shop):
    before = table_counts(app)
    assert client.post(f"/admin/users/{shop.admin[0]}/disable", headers=shop.admin[1], json=WHY).status_code == 409
    assert client.post("/admin/orders/4242/refund", headers=shop.admin[1], json=WHY).status_code == 404
    assert client.post(f"/admin/users/{shop.buyer[0]}/adjustments", headers=shop.admin[1],
                       json={"amount_cents": -10**8, **WHY}).status_code == 409
    assert table_counts(app) == before


def test_admins_filter_by_admin_target_action_and_time_newest_first_in_pages(app, client, tokens, shop):
    second_id, second = tokens.user("second-admin@shop.example", groups=["admin"])
    admin = shop.admin[1]
    client.post(f"/admin/users/{shop.other[0]}/disable", headers=admin, json=WHY)
    client.post(f"/admin/users/{shop.other[0]}/enable", headers=second, json=WHY)
    client.put(f"/admin/users/{shop.buyer[0]}/roles/seller", headers=second, json=WHY)
    client.post(f"/admin/users/{shop.buyer[0]}/adjustments", headers=admin, json={"amount_cents": 1, **WHY})
    everything = _audit(client, admin)
    assert [e["action"] for e in everything] == ["accounts.adjust", "users.grant_role", "users.enable",
                                                 "users.disable"]
    assert [e["action"] for e in _audit(client, admin, f"?actor_id={second_id}")] == ["users.grant_role",
                                                                                       "users.enable"]
    assert [e["action"] for e in _audit(client, admin, f"?target_type=user&target_id={shop.other[0]}")] == \
        ["users.enable", "users.disable"]
    assert [e["target_id"] for e in _audit(client, admin, "?action=accounts.adjust")] == [shop.buyer[0]]
    with app.app_context():  # the first two happened a day ago
        ids = [e["id"] for e in everything[2:]]
        db.session.execute(update(AuditEntry).where(AuditEntry.id.in_(ids)).values(
            created_at=AuditEntry.created_at - timedelta(days=1)))
        db.session.commit()
    cutoff = quote((datetime.now(UTC) - timedelta(hours=1)).isoformat())
    assert [e["action"] for e in _audit(client, admin, f"?since={cutoff}")] == ["accounts.adjust",
                                                                               "users.grant_role"]
    assert [e["action"] for e in _audit(client, admin, f"?until={cutoff}")] == ["users.enable", "users.disable"]
    page = data_of(client.get("/admin/audit?limit=3", headers=admin))
    rest = data_of(client.get(f"/admin/audit?limit=3&cursor={page['next_cursor']}", headers=admin))
    assert [e["id"] for e in page["items"] + rest["items"]] == [e["id"] for e in everything]
    assert rest["next_cursor"] is None


def test_bad_audit_filters_are_422(client, shop):
    for bad in ("since=2026-01-01T00:00:00", "action=DROP TABLE", "target_type=group", "actor_id=0",
                "limit=101", "cursor=bm90LWEtY3Vyc29y", "until=yesterday"):
        assert client.get(f"/admin/audit?{bad}", headers=shop.admin[1]).status_code == 422, bad
