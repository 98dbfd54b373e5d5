"""Builders for test data: tokens signed by the app's local issuer key, users, rows."""

import time
import uuid

import jwt

from torium_api.actor import Actor
from torium_api.dev.local_issuer import LocalKeySource


def data_of(response, status: int = 200):
    """The envelope's data, after checking the HTTP status (the body is shown when it differs)."""
    assert response.status_code == status, response.get_json()
    return response.get_json()["data"]


class TokenFactory:
    """Mints RS256 tokens exactly as Cognito shapes them, signed with the key the app trusts."""

    def __init__(self, app):
        self.app = app
        verifier = app.extensions["torium_auth"]["verifier"]
        assert isinstance(verifier.keys, LocalKeySource)
        self.keys, self.issuer = verifier.keys, verifier.issuer
        self.client_id = sorted(verifier.client_ids)[0]

    def claims(self, email: str, groups=(), **overrides) -> dict:
        now = int(time.time())
        claims = {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"test:{email}")), "iss": self.issuer,
            "client_id": self.client_id, "token_use": "access", "iat": now, "auth_time": now,
            "exp": now + 900, "jti": str(uuid.uuid4()), "username": email, "email": email,
            "cognito:groups": list(groups),
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, email: str = "ada@example.com", groups=(), *, key=None, headers=None, **overrides) -> str:
        return jwt.encode(self.claims(email, groups, **overrides), key or self.keys.private_key,
                          algorithm="RS256", headers={"kid": self.keys.kid, **(headers or {})})

    def headers(self, email: str = "ada@example.com", groups=(), **overrides) -> dict:
        return {"Authorization": f"Bearer {self.token(email, groups, **overrides)}"}

    def signed_in_user(self, client, email: str, groups=()) -> tuple[int, dict]:
        headers = self.headers(email, groups)
        response = client.get("/users", headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]["user_id"], headers


def make_group(app, admin_id: int, *, members: dict | None = None, invited=(), name: str = "Trip") -> int:
    """A group with an admin, extra members {user_id: role} and pending invitations; returns its id."""
    from torium_api.database import transaction
    from torium_api.extensions import db
    from torium_api.groups import services
    from torium_api.groups.models import GroupInvitation, GroupMember, InvitationStatus, Role
    from torium_api.users.models import User

    with app.app_context(), transaction():
        group = services.create_group(Actor(db.session.get(User, admin_id)), name, "a group")
        for user_id, role in (members or {}).items():
            db.session.add(GroupMember(group_id=group.id, user_id=user_id, role=Role(role)))
        for user_id in invited:
            db.session.add(GroupInvitation(group_id=group.id, user_id=user_id, invited_by_id=admin_id,
                                           status=InvitationStatus.PENDING))
        db.session.flush()
        return group.id


def count_queries(app):
    """A context manager counting SQL statements sent to PostgreSQL."""
    import contextlib

    from sqlalchemy import event

    from torium_api.extensions import db

    @contextlib.contextmanager
    def counting():
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting()


class Cast:
    """Users by role name with their headers; ``h(who, group_id=1)`` adds ``trm-group-id: 1``."""

    headers: dict

    def h(self, who: str, **trm) -> dict:
        extra = {f"trm-{name.replace('_', '-')}": str(value) for name, value in trm.items()}
        return {**self.headers.get(who, {}), **extra}


def run_concurrently(*calls) -> list:
    """Start every call at the same moment on its own thread; return their results in order."""
    import threading

    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def run_background(app, rounds: int = 10) -> None:
    """Run the relay and the workers until nothing is left to do (what the background processes would)."""
    from torium_api.outbox.relay import relay_batch
    from torium_api.workers import runner

    for _ in range(rounds):
        with app.app_context():
            published = relay_batch()
        handled = runner.drain_once(app, wait_seconds=0)
        if not published and not handled:
            return
