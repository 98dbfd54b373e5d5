"""Cognito follows what the API decides, through the outbox and the workers, against moto's Cognito: the new user's
custom:user_id, disabling and enabling, the role groups, deletion. The API never waits for it."""

import json

from sqlalchemy import select

from tests.factories import data_of, run_background
from torium_api.extensions import db
from torium_api.outbox.models import OutboxMessage, ProcessedMessage
from torium_api.users.models import User

WHY = {"reason": "checked by the back office"}


def _messages(app, type_: str) -> list[dict]:
    with app.app_context():
        return [m.payload for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.type == type_))]


def _processed(app, type_: str) -> int:
    with app.app_context():
        return len(db.session.scalars(select(ProcessedMessage).where(ProcessedMessage.type == type_)).all())


def test_first_sight_writes_the_new_users_id_into_cognito(app, client, tokens, cognito_pool, sqs):
    cognito_pool.user("neo@example.com")
    user_id, _ = tokens.signed_in_user(client, "neo@example.com")
    assert _messages(app, "users.first_seen") == [{"user_id": user_id, "username": "neo@example.com"}]
    assert "custom:user_id" not in cognito_pool.attributes("neo@example.com")  # not inside the request
    run_background(app)
    assert cognito_pool.attributes("neo@example.com")["custom:user_id"] == str(user_id)
    with app.app_context():
        assert db.session.get(User, user_id).cognito_username == "neo@example.com"
    tokens.signed_in_user(client, "neo@example.com")  # seen again: no second message
    assert len(_messages(app, "users.first_seen")) == 1


def test_an_id_tokens_cognito_username_is_used(app, client, tokens, cognito_pool, sqs, monkeypatch):
    monkeypatch.setitem(app.extensions["torium_auth"]["verifier"].__dict__, "accept_id_tokens", True)
    cognito_pool.user("idtoken@example.com")
    headers = tokens.headers("idtoken@example.com", token_use="id", aud=tokens.client_id, client_id=None,
                             username=None, **{"cognito:username": "idtoken@example.com"})
    user_id = data_of(client.get("/users", headers=headers))["user_id"]
    run_background(app)
    assert cognito_pool.attributes("idtoken@example.com")["custom:user_id"] == str(user_id)


def test_disabling_refuses_at_once_and_cognito_follows(app, client, tokens, cognito_pool, sqs):
    _, admin = tokens.user("boss@example.com", groups=["admin"])
    cognito_pool.user("eve@example.com")
    eve_id, eve = tokens.user("eve@example.com", cognito_username="eve@example.com")
    assert client.get("/users", headers=eve).status_code == 200
    assert data_of(client.post(f"/admin/users/{eve_id}/disable", headers=admin, json=WHY))["status"] == "disabled"
    assert client.get("/users", headers=eve).status_code == 403  # at once: Cognito has not been told yet
    assert cognito_pool.attributes("eve@example.com")["Enabled"] is True
    run_background(app)
    assert cognito_pool.attributes("eve@example.com")["Enabled"] is False
    assert data_of(client.post(f"/admin/users/{eve_id}/enable", headers=admin, json=WHY))["status"] == "active"
    assert client.get("/users", headers=eve).status_code == 200
    run_background(app)
    assert cognito_pool.attributes("eve@example.com")["Enabled"] is True


def test_role_groups_follow_grants_and_revocations(app, client, tokens, cognito_pool, sqs):
    _, admin = tokens.user("boss@example.com", groups=["admin"])
    cognito_pool.user("sam@example.com")
    sam_id, _ = tokens.user("sam@example.com", cognito_username="sam@example.com")
    granted = data_of(client.put(f"/admin/users/{sam_id}/roles/seller", headers=admin, json=WHY))
    assert granted["granted"] is True and "next token" in granted["takes_effect"]
    run_background(app)
    assert cognito_pool.groups("sam@example.com") == {"seller"}
    client.put(f"/admin/users/{sam_id}/roles/admin", headers=admin, json=WHY)
    client.delete(f"/admin/users/{sam_id}/roles/seller", headers=admin, json=WHY)
    run_background(app)
    assert cognito_pool.groups("sam@example.com") == {"admin"}


def test_erasure_deletes_the_cognito_user(app, client, tokens, cognito_pool, sqs):
    cognito_pool.user("leaving@example.com")
    _, headers = tokens.signed_in_user(client, "leaving@example.com")
    run_background(app)
    assert client.delete("/users/me", headers=headers).status_code == 200
    assert cognito_pool.exists("leaving@example.com")  # the request only wrote the message
    run_background(app)
    assert not cognito_pool.exists("leaving@example.com")


def test_a_user_cognito_no_longer_knows_is_nothing_to_do(app, client, tokens, cognito_pool, sqs):
    _, admin = tokens.user("boss@example.com", groups=["admin"])
    ghost_id, _ = tokens.user("ghost@example.com", cognito_username="ghost@example.com")  # not in the pool
    client.post(f"/admin/users/{ghost_id}/disable", headers=admin, json=WHY)
    client.put(f"/admin/users/{ghost_id}/roles/seller", headers=admin, json=WHY)
    run_background(app)
    assert _processed(app, "users.access_changed") == _processed(app, "users.role_changed") == 1


def test_without_a_pool_the_calls_are_skipped_and_the_messages_done(app, client, tokens, sqs):
    assert app.config["COGNITO_ADMIN_USER_POOL_ID"] is None  # the tests' app: the local issuer, no Cognito
    tokens.signed_in_user(client, "local@example.com")
    run_background(app)
    assert _processed(app, "users.first_seen") == 1


def test_messages_carry_ids_and_the_username_never_a_secret(app, client, tokens, sqs):
    _, admin = tokens.user("boss@example.com", groups=["admin"])
    user_id, headers = tokens.signed_in_user(client, "msg@example.com")
    client.post(f"/admin/users/{user_id}/disable", headers=admin, json=WHY)
    client.post(f"/admin/users/{user_id}/enable", headers=admin, json=WHY)
    client.delete("/users/me", headers=headers)
    with app.app_context():
        payloads = [json.dumps(m.payload) for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.type.like("users.%")))]
    assert payloads and all("Bearer" not in p and "token" not in p for p in payloads)
