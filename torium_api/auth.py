"""Authentication: Cognito JWT verification and the default-deny request hook.

Who the caller is comes only from a verified token. Every route needs one except
``PUBLIC_ENDPOINTS``. Cognito pools and the local development issuer (``dev/local_issuer.py``,
development only) share one verification path (``TokenVerifier``); they differ only in where
the public keys come from. The request's ``Actor`` is the token's user and the roles its
``cognito:groups`` grant. Whether the caller may do something is decided in services, not here.
"""

import base64
import json
import logging
import re
import threading
from collections.abc import Callable

import jwt
from flask import Flask, current_app, g, request
from werkzeug.exceptions import Unauthorized

from torium_api import clock
from torium_api.actor import Actor, AppRole
from torium_api.errors import Forbidden, ServiceUnavailable

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = frozenset({
    "health.Health", "api-docs.openapi_json", "api-docs.openapi_swagger_ui", "swagger-ui.static",
    # The payment provider's webhook: no user and no token. It is authenticated by its HMAC signature instead
    # (payments/signature.py, checked before anything else of the request is read).
    "payments.PaymentWebhook",
})
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


class InvalidToken(Exception):
    """The reason is logged, never sent to the client."""


class KeysUnavailable(Exception):
    """The JWKS could not be fetched: fail closed with 503, distinct from a bad token."""


class JwksKeySource:
    """Cognito: the pool's JWKS, fetched by one request at a time and cached per process, with bounds.

    PyJWKClient alone holds its lock during a fetch (every request waits, even those whose key is cached),
    and while the endpoint fails every unknown ``kid`` fetches again. Here:
    - a cached key is served without a lock or a network call while younger than ``ttl``; older but younger
      than ``max_stale`` it is refreshed by one request in the background of the others, and while the endpoint
      fails it is served as it was (a key Cognito withdrew is then accepted at most ``max_stale``);
    - an unknown ``kid`` refetches at most once per ``miss_cooldown`` (a rotated-in key is seen within it);
    - a failed fetch starts a backoff (1 s doubling to 60 s) during which nothing is fetched: unknown keys get
      ``KeysUnavailable`` (503, never accepted);
    - a waiting request waits at most ``timeout`` for the fetch in progress.
    """

    def __init__(self, url: str, *, ttl: float, max_stale: float, timeout: float, miss_cooldown: float = 30,
                 backoff=(1.0, 60.0), monotonic=clock.monotonic):
        self._fetcher = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=timeout)  # its hardened HTTP GET only
        self.ttl, self.max_stale, self.timeout, self.miss_cooldown = ttl, max_stale, timeout, miss_cooldown
        self._backoff_min, self._backoff_max = backoff
        self._monotonic = monotonic
        self._snapshot: tuple[dict[str, jwt.PyJWK], float | None] = ({}, None)  # replaced whole, read lock-free
        self._fetching = threading.Lock()
        self._retry_at, self._delay, self._last_miss_fetch = 0.0, self._backoff_min, float("-inf")
        self.fetches = 0

    def key(self, kid: str) -> jwt.PyJWK:
        keys, fetched_at = self._snapshot
        age = None if fetched_at is None else self._monotonic() - fetched_at
        if kid in keys and age < self.ttl:
            return keys[kid]
        if kid in keys and age < self.max_stale:
            return self._revalidate(kid, keys[kid])
        return self._fetch_for(kid)

    def _revalidate(self, kid: str, cached: jwt.PyJWK) -> jwt.PyJWK:
        if not self._fetching.acquire(blocking=False):
            return cached  # another request is refreshing
        try:
            fresh = self._fetch_locked()
        except KeysUnavailable:
            return cached  # the endpoint fails: the last good key, until max_stale
        finally:
            self._fetching.release()
        if kid not in fresh:
            raise InvalidToken("kid no longer published")
        return fresh[kid]

    def _fetch_for(self, kid: str) -> jwt.PyJWK:
        if not self._fetching.acquire(timeout=self.timeout):
            raise KeysUnavailable("timed out waiting for the JWKS fetch in progress")
        try:
            keys, fetched_at = self._snapshot
            now = self._monotonic()
            if kid in keys and fetched_at is not None and now - fetched_at < self.max_stale:
                return keys[kid]  # the fetch we waited for brought it
            recent = fetched_at is not None and now - fetched_at < self.ttl
            if recent and now - self._last_miss_fetch < self.miss_cooldown:
                raise InvalidToken("unknown kid")  # no fetch: a flood of random kids costs nothing
            if recent:
                self._last_miss_fetch = now
            keys = self._fetch_locked()
        finally:
            self._fetching.release()
        if kid not in keys:
            raise InvalidToken("unknown kid")
        return keys[kid]

    def _fetch_locked(self) -> dict[str, jwt.PyJWK]:
        now = self._monotonic()
        if now < self._retry_at:
            raise KeysUnavailable(f"JWKS endpoint failing; next attempt in {self._retry_at - now:.0f} s")
        self.fetches += 1
        try:
            document = jwt.PyJWKSet.from_dict(self._fetcher.fetch_data())
            keys = {key.key_id: key for key in document.keys if key.key_id and key.public_key_use in ("sig", None)}
            if not keys:
                raise jwt.PyJWKSetError("no signing keys")
        except (jwt.PyJWTError, ValueError, OSError) as exc:  # ValueError: a 200 whose body is not JSON
            self._retry_at = self._monotonic() + self._delay
            self._delay = min(self._delay * 2, self._backoff_max)
            raise KeysUnavailable(f"JWKS fetch failed: {type(exc).__name__}") from exc
        self._delay, self._retry_at = self._backoff_min, 0.0
        self._snapshot = (keys, self._monotonic())
        return keys


class TokenVerifier:
    def __init__(self, *, issuer, keys, client_ids, accept_id_tokens=False, leeway=30):
        self.issuer, self.keys = issuer, keys
        self.client_ids = frozenset(client_ids)
        self.accept_id_tokens, self.leeway = accept_id_tokens, leeway

    def verify(self, token: str) -> dict:
        if not _TOKEN_SHAPE.match(token):
            raise InvalidToken("malformed token")
        header = _unverified_header(token)
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            raise InvalidToken(f"alg {header.get('alg')!r} or kid not acceptable")
        jwk = self.keys.key(header["kid"])
        if jwk.key_type != "RSA" or jwk.Algorithm is None or (jwk.algorithm_name or "RS256") != "RS256":
            raise InvalidToken("key is not an RS256 signing key")
        try:
            claims = jwt.decode(
                token, jwk.key, algorithms=["RS256"], issuer=self.issuer, leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"{type(exc).__name__}: {exc}") from exc
        self._check_use(claims)
        return claims

    def _check_use(self, claims: dict) -> None:
        use = claims.get("token_use")
        if use == "access":
            if claims.get("client_id") not in self.client_ids:
                raise InvalidToken("client_id not allowed")
        elif use == "id" and self.accept_id_tokens:
            if claims.get("aud") not in self.client_ids:
                raise InvalidToken("aud not allowed")
        else:
            raise InvalidToken(f"token_use {use!r} not accepted")


def _unverified_header(token: str) -> dict:
    """The header of a token of _TOKEN_SHAPE, to pick its key. jwt.get_unverified_header would decode and check
    all three segments, as jwt.decode does again right after (a third of a verification's time); jwt.decode
    checks this header too."""
    segment = token[:token.index(".")]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, RecursionError) as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise InvalidToken(f"bad header: {type(exc).__name__}") from None
    if not isinstance(header, dict):
        raise InvalidToken("bad header: not a JSON object")
    return header


def build_verifier(config: dict) -> TokenVerifier:
    if config["COGNITO_USER_POOL_ID"]:
        url = config["COGNITO_JWKS_URL"] or f"{config['COGNITO_ISSUER']}/.well-known/jwks.json"
        keys = JwksKeySource(url, ttl=config["JWKS_CACHE_SECONDS"], max_stale=config["JWKS_MAX_STALE_SECONDS"],
                             timeout=config["JWKS_TIMEOUT_SECONDS"])
    elif config["TORIUM_ENV"] == "development":
        from torium_api.dev.local_issuer import LocalKeySource

        keys = LocalKeySource(config["LOCAL_KEY_DIR"])
    else:  # config.validate refuses this already; never fall back to a key that is not Cognito's
        raise RuntimeError("no Cognito user pool configured outside development")
    return TokenVerifier(
        issuer=config["COGNITO_ISSUER"], keys=keys, client_ids=config["COGNITO_APP_CLIENT_IDS"],
        accept_id_tokens=config["COGNITO_ACCEPT_ID_TOKENS"], leeway=config["AUTH_LEEWAY_SECONDS"],
    )


def _unauthorized(message: str = "Authentication required") -> Unauthorized:
    exc = Unauthorized(message)
    exc.data = {"message": message, "headers": {"WWW-Authenticate": 'Bearer realm="torium"'}}
    return exc


def _authenticate() -> None:
    if request.method == "OPTIONS" or request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized()
    state = current_app.extensions["torium_auth"]
    try:
        claims = state["verifier"].verify(token.strip())
    except InvalidToken as exc:
        log.info("token rejected", extra={"reason": str(exc)})
        raise _unauthorized() from None
    except KeysUnavailable as exc:
        log.error("JWKS unavailable", extra={"reason": str(exc)})
        raise ServiceUnavailable("Authentication is temporarily unavailable", headers={"Retry-After": "5"}) from None
    g.auth_claims = claims
    user = state["load_user"](claims, token.strip())
    if user.deleted_at is not None:  # erased: its sub stays known so that its tokens stay refused
        raise _unauthorized("This account was deleted")
    if user.disabled_at is not None:  # refused at once, though the token stays valid until it expires
        raise Forbidden("This account is disabled")
    roles = state["roles"](user, claims) if state["roles"] else AppRole.from_claims(claims.get("cognito:groups"))
    g.actor = Actor(user, roles)
    _check_legacy_identity_headers()


def _check_legacy_identity_headers() -> None:
    """The old app sent its own id in trm-user-id / trm-admin-id. Accept only the caller's; a missing, empty or
    "null" one is ignored (the app sends '' until it has read custom:user_id from Cognito)."""
    view = current_app.view_functions.get(request.endpoint)
    target_methods = getattr(getattr(view, "view_class", view), "trm_user_id_target_methods", ())
    names = ("trm-admin-id",) if request.method in target_methods else ("trm-user-id", "trm-admin-id")
    claimed = [(name, request.headers.get(name)) for name in names]
    if request.method not in target_methods:
        claimed.append(("user_id", request.args.get("user_id")))  # the old GETs read ?user_id= too
    for name, value in claimed:
        if value is not None and value.strip().lower() not in ("", "null") and value.strip() != str(g.actor.id):
            raise Forbidden(f"{name} does not match the authenticated user")


def current_actor() -> Actor:
    return g.actor


def init_app(app: Flask, load_user: Callable[[dict, str], object],
             roles: Callable[[object, dict], frozenset[AppRole]] | None = None) -> None:
    """``load_user(claims, token)``: the token's user (created on first sight). ``roles(user, claims)``: the roles
    the token grants that still hold (a revoked role is refused at once, before the token expires)."""
    app.extensions["torium_auth"] = {"verifier": build_verifier(app.config), "load_user": load_user, "roles": roles}
    app.before_request(_authenticate)
