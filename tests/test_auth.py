"""Authentication: every forged or unacceptable token is a 401 that says nothing more."""

import base64
import http.server
import json
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from tests.factories import run_concurrently, sub_of
from torium_api import create_app
from torium_api.extensions import db
from torium_api.users.models import User

UNAUTHORIZED = {"status": {"code": 401, "message": "Authentication required"}, "data": None}


def _get_users(client, token):
    return client.get("/users", headers={"Authorization": f"Bearer {token}"})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_access_token_is_accepted(client, tokens):
    response = _get_users(client, tokens.token("ada@example.com"))
    assert response.status_code == 200
    assert response.get_json()["data"]["email"] == "ada@example.com"


@pytest.mark.parametrize("overrides", [
    pytest.param({"exp": int(time.time()) - 120}, id="expired"),
    pytest.param({"nbf": int(time.time()) + 600}, id="not-yet-valid"),
    pytest.param({"iat": int(time.time()) + 600}, id="issued-in-the-future"),
    pytest.param({"iss": "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_evil"}, id="wrong-issuer"),
    pytest.param({"client_id": "someone-elses-app"}, id="wrong-client-id"),
    pytest.param({"token_use": "id", "aud": "torium-local"}, id="id-token-on-access-only-api"),
    pytest.param({"token_use": "refresh"}, id="wrong-token-use"),
    pytest.param({"token_use": None}, id="no-token-use"),
    pytest.param({"sub": None}, id="no-sub"),
    pytest.param({"exp": None}, id="no-expiry"),
])
def test_unacceptable_claims_are_401(client, tokens, overrides):
    response = _get_users(client, tokens.token(**overrides))
    assert response.status_code == 401
    assert response.get_json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_small_clock_skew_is_tolerated(client, tokens):
    assert _get_users(client, tokens.token(exp=int(time.time()) - 5)).status_code == 200


def test_tampered_payload_is_401(client, tokens):
    header, _, signature = tokens.token("ada@example.com").split(".")
    forged = _b64(tokens.claims("ada@example.com", groups=["admin"]))
    assert _get_users(client, f"{header}.{forged}.{signature}").get_json() == UNAUTHORIZED


def test_alg_none_is_401(client, tokens):
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': tokens.keys.kid})}.{_b64(tokens.claims('a@b.c'))}."
    assert _get_users(client, token).status_code == 401
    assert _get_users(client, token + "x").status_code == 401


def test_hs256_signed_with_the_public_key_is_401(client, tokens):
    pem = tokens.keys.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": tokens.keys.kid})
    payload = _b64(tokens.claims("mallory@example.com"))
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(
        hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    assert _get_users(client, f"{header}.{payload}.{signature}").status_code == 401


def test_unknown_kid_is_401(client, tokens):
    assert _get_users(client, tokens.token(headers={"kid": "rotated-away"})).status_code == 401


@pytest.mark.parametrize("header", [
    "W10",  # []
    "bnVsbA",  # null
    "_-8",  # not UTF-8
    "eyJhbGciOiJSUzI1NiIsImtpZCI6",  # truncated JSON
    "a",  # one character: not base64 at all
    base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).rstrip(b"=").decode(),  # nested past the recursion limit
])
def test_a_header_that_is_not_a_json_object_is_401(client, tokens, header):
    _, payload, signature = tokens.token("ada@example.com").split(".")
    response = _get_users(client, f"{header}.{payload}.{signature}")
    assert response.status_code == 401 and response.get_json() == UNAUTHORIZED


def test_token_signed_by_another_key_is_401(client, tokens):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _get_users(client, tokens.token(key=stranger)).status_code == 401


@pytest.mark.parametrize("value", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer a.b"])
def test_malformed_authorization_is_401(client, value):
    response = client.get("/users", headers={"Authorization": value})
    assert response.status_code == 401
    assert response.get_json() == UNAUTHORIZED


def test_id_tokens_are_accepted_only_when_configured(test_config, tokens):
    app = create_app({**test_config, "COGNITO_ACCEPT_ID_TOKENS": True})
    client = app.test_client()
    id_token = tokens.token("ida@example.com", token_use="id", aud="torium-local", client_id=None)
    assert _get_users(client, id_token).status_code == 200
    wrong_aud = tokens.token("ida@example.com", token_use="id", aud="other-client", client_id=None)
    assert _get_users(client, wrong_aud).status_code == 401


def test_roles_come_from_cognito_groups_only(app, client, tokens):
    from torium_api.actor import AppRole
    from torium_api.auth import current_actor

    with app.test_request_context("/users", headers=tokens.headers("s@example.com", groups=["seller", "root"])):
        app.preprocess_request()
        assert current_actor().roles == {AppRole.SELLER}


def test_first_sight_creates_exactly_one_user_under_concurrency(app, tokens):
    token = tokens.token("race@example.com")
    results = run_concurrently(*[lambda: _get_users(app.test_client(), token).status_code] * 8)
    assert results == [200] * 8
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_trm_user_id_naming_someone_else_is_403(client, user):
    user_id, headers = user
    assert client.get("/users", headers={**headers, "trm-user-id": str(user_id)}).status_code == 200
    for name in ("trm-user-id", "trm-admin-id"):
        response = client.get("/users", headers={**headers, name: str(user_id + 1)})
        assert response.status_code == 403
        assert name in response.get_json()["status"]["message"]


# --- the Cognito path: JWKS fetched over HTTP, cached, refetched with a cooldown --------------

class _Jwks:
    """A loopback JWKS endpoint that counts its hits, can fail on demand, and can hold a request until released."""

    def __init__(self):
        self.keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048)]
        self.hits, self.failing = 0, False
        self.release = threading.Event()
        self.release.set()
        jwks = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                jwks.hits += 1
                jwks.release.wait(10)
                if jwks.failing:
                    self.send_response(500)
                    self.end_headers()
                    return
                body = json.dumps(jwks.document()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"

    def document(self):
        return {"keys": [{**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())),
                          "kid": f"kid-{i}", "alg": "RS256", "use": "sig"} for i, k in enumerate(self.keys)]}

    def token(self, index=0, kid=None, **overrides):
        now = int(time.time())
        claims = {"sub": "c0ffee00-0000-4000-8000-000000000001", "iss": POOL_ISSUER, "client_id": "app-client",
                  "token_use": "access", "iat": now, "exp": now + 300, "email": "cog@example.com",
                  "email_verified": True, **overrides}
        return jwt.encode(claims, self.keys[index], algorithm="RS256", headers={"kid": kid or f"kid-{index}"})


POOL_ID = "eu-central-1_TestPool1"
POOL_ISSUER = f"https://cognito-idp.eu-central-1.amazonaws.com/{POOL_ID}"


class _Monotonic:
    """The key source's interval clock, moved by the test."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def cognito(test_config):
    jwks = _Jwks()
    app = create_app({**test_config, "COGNITO_USER_POOL_ID": POOL_ID, "COGNITO_REGION": "eu-central-1",
                      "COGNITO_ISSUER": POOL_ISSUER, "COGNITO_JWKS_URL": jwks.url,
                      "COGNITO_APP_CLIENT_IDS": ["app-client"], "JWKS_CACHE_SECONDS": 3600,
                      "JWKS_MAX_STALE_SECONDS": 7200})
    monotonic = _Monotonic()
    app.extensions["torium_auth"]["verifier"].keys._monotonic = monotonic
    yield app, jwks, monotonic
    jwks.release.set()
    jwks.server.shutdown()


def test_cognito_token_is_verified_against_the_pool_jwks(cognito):
    app, jwks, _ = cognito
    client = app.test_client()
    assert _get_users(client, jwks.token()).status_code == 200
    assert _get_users(client, jwks.token()).status_code == 200
    assert jwks.hits == 1  # cached per process


def test_unknown_kids_cause_at_most_one_refetch_per_cooldown(cognito):
    app, jwks, clock = cognito
    client = app.test_client()
    assert _get_users(client, jwks.token()).status_code == 200
    for i in range(20):
        assert _get_users(client, jwks.token(kid=f"random-{i}")).status_code == 401
    assert jwks.hits == 2  # the first unknown kid refetched once; the 19 others within the cooldown: nothing
    clock.now += 31
    assert _get_users(client, jwks.token(kid="random-x")).status_code == 401
    assert jwks.hits == 3


def test_a_rotated_key_is_accepted_at_once(cognito):
    app, jwks, _ = cognito
    client = app.test_client()
    assert _get_users(client, jwks.token()).status_code == 200
    jwks.keys.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert _get_users(client, jwks.token(index=1)).status_code == 200
    assert jwks.hits == 2


def test_jwks_outage_is_503_not_401(cognito):
    app, jwks, _ = cognito
    jwks.failing = True
    response = _get_users(app.test_client(), jwks.token())
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.get_json()["status"]["code"] == 503


def test_while_the_jwks_endpoint_fails_fetches_are_bounded_and_cached_keys_still_work(cognito):
    app, jwks, clock = cognito
    client = app.test_client()
    assert _get_users(client, jwks.token()).status_code == 200
    jwks.failing = True
    clock.now += 3600 + 1  # the cached set is past JWKS_CACHE_SECONDS
    statuses = [_get_users(client, jwks.token()).status_code for _ in range(10)]
    unknown = [_get_users(client, jwks.token(kid=f"new-{i}")).status_code for i in range(20)]
    assert statuses == [200] * 10  # the last good key, up to JWKS_MAX_STALE_SECONDS
    assert unknown == [503] * 20  # never accepted, never a flood: 1 attempt, then the backoff
    assert jwks.hits == 2
    clock.now += 2  # the backoff (1 s, doubling) is over: one more attempt
    assert _get_users(client, jwks.token(kid="new-x")).status_code == 503
    assert jwks.hits == 3
    clock.now += 7200  # past JWKS_MAX_STALE_SECONDS: no key is served unverified for ever
    assert _get_users(client, jwks.token()).status_code == 503


def test_a_slow_fetch_does_not_hold_up_requests_whose_key_is_cached(cognito):
    app, jwks, clock = cognito
    assert _get_users(app.test_client(), jwks.token()).status_code == 200
    jwks.release.clear()  # the endpoint now holds every fetch until released
    fetching = threading.Thread(target=lambda: _get_users(app.test_client(), jwks.token(kid="rotated")))
    fetching.start()
    while jwks.hits < 2:
        time.sleep(0.01)  # the unknown kid's fetch is in progress, holding the fetch lock
    statuses = []
    cached = threading.Thread(target=lambda: statuses.append(_get_users(app.test_client(), jwks.token()).status_code))
    cached.start()
    cached.join(timeout=5)
    finished_while_fetching = not cached.is_alive()
    jwks.release.set()
    fetching.join(timeout=10)
    assert finished_while_fetching and statuses == [200]


def _cognito_user(aws_endpoint, email: str, verified: bool):
    """A user of moto's Cognito and their access token (which, as on AWS, carries no e-mail)."""
    import boto3

    idp = boto3.client("cognito-idp", endpoint_url=aws_endpoint, region_name="eu-central-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    pool = idp.create_user_pool(PoolName="t")["UserPool"]["Id"]
    app_client = idp.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                             ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"])["UserPoolClient"]["ClientId"]
    attributes = [{"Name": "email", "Value": email}] + (
        [{"Name": "email_verified", "Value": "true"}] if verified else [])
    idp.admin_create_user(UserPoolId=pool, Username=email, TemporaryPassword="Tmp-Passw0rd!",
                          UserAttributes=attributes, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username=email, Password="Passw0rd-123!", Permanent=True)
    access_token = idp.admin_initiate_auth(
        UserPoolId=pool, ClientId=app_client, AuthFlow="ADMIN_NO_SRP_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "Passw0rd-123!"},
    )["AuthenticationResult"]["AccessToken"]
    claims = jwt.decode(access_token, options={"verify_signature": False})
    assert "email" not in claims
    return idp, pool, claims, access_token


@pytest.mark.parametrize("verified, stored", [(True, "neo@example.com"), (False, "")])
def test_a_new_users_email_is_read_from_cognito_and_kept_only_when_verified(app, aws_endpoint, verified, stored):
    """Real Cognito access tokens carry no e-mail: the user's own token asks Cognito (moto's) once."""
    _, _, claims, access_token = _cognito_user(aws_endpoint, "neo@example.com", verified)
    with app.app_context():
        from torium_api.users import services

        services.create_user_from_token(claims, access_token)
        db.session.commit()
        assert services.find_user_by_sub(claims["sub"]).email == stored


def test_the_stored_email_follows_the_tokens_verified_email(client, tokens):
    first = sub_of("first@example.com")  # one account (one sub) whose address changes
    assert client.get("/users", headers=tokens.headers("first@example.com")).get_json()["data"]["email"] == \
        "first@example.com"
    unverified = tokens.headers("new@example.com", sub=first, email_verified=False)
    assert client.get("/users", headers=unverified).get_json()["data"]["email"] == ""  # not searchable meanwhile
    verified = tokens.headers("new@example.com", sub=first)
    assert client.get("/users", headers=verified).get_json()["data"]["email"] == "new@example.com"
    friend = tokens.headers("friend@example.com")
    assert client.get("/users/email", headers={**friend, "trm-email": "new@example.com"}).status_code == 200
    assert client.get("/users/email", headers={**friend, "trm-email": "first@example.com"}).status_code == 404


def test_an_address_verified_by_another_account_moves_to_it(client, tokens):
    """Lookups never choose between two users: the address belongs to the account that verified it last."""
    old = client.get("/users", headers=tokens.headers("shared@example.com")).get_json()["data"]["user_id"]
    other = tokens.headers("shared@example.com", sub=sub_of("other@example.com"))
    new_id = client.get("/users", headers=other).get_json()["data"]["user_id"]
    assert new_id != old
    lookup = client.get("/users/email", headers={**tokens.headers("x@example.com"), "trm-email": "SHARED@example.com"})
    assert lookup.get_json()["data"] == {"user_id": new_id}


def test_access_tokens_reread_the_email_from_cognito_only_now_and_then(app, client, aws_endpoint, monkeypatch):
    from torium_api.users import services
    from torium_api.users.models import User

    idp, pool, claims, access_token = _cognito_user(aws_endpoint, "neo@example.com", verified=True)
    calls = []
    real = services._email_from_cognito
    monkeypatch.setattr(services, "_email_from_cognito", lambda *a, **k: calls.append(1) or real(*a, **k))
    with app.app_context():
        services.create_user_from_token(claims, access_token)
        db.session.commit()
        user = services.find_user_by_sub(claims["sub"])
        assert not services.identity_is_stale(user, claims)  # just read: no call per request
        idp.admin_update_user_attributes(UserPoolId=pool, Username="neo@example.com", UserAttributes=[
            {"Name": "email", "Value": "trinity@example.com"}, {"Name": "email_verified", "Value": "true"}])
        user.identity_checked_at = user.identity_checked_at.replace(year=2000)  # a day (or more) later
        assert services.identity_is_stale(user, claims)
        services.refresh_identity(user, claims, access_token)
        db.session.commit()
        assert db.session.get(User, user.id).email == "trinity@example.com" and len(calls) == 2


def test_a_disabled_users_valid_token_is_refused_at_once(app, client, user):
    from torium_api.users.models import User

    assert client.get("/users", headers=user[1]).status_code == 200
    with app.app_context():
        db.session.get(User, user[0]).disabled_at = db.func.now()
        db.session.commit()
    response = client.get("/users", headers=user[1])
    assert response.status_code == 403
    assert response.get_json()["status"]["message"] == "This account is disabled"
