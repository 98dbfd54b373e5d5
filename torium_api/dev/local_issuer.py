"""The development token issuer: one RSA key under ``instance/dev-keys`` signs Cognito-shaped access tokens.

The verifier checks them with the same code as Cognito's (``auth.TokenVerifier``); only the key source
differs. It exists only when ``TORIUM_ENV=development``: production needs a Cognito pool.
"""

import json
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app

from torium_api import clock
from torium_api.auth import InvalidToken, TokenVerifier


class LocalKeySource:
    """One RSA key kept under instance/ (created on first use)."""

    def __init__(self, key_dir: str):
        self.private_key = _load_or_create_key(Path(key_dir) / "signing-key.pem")
        public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        self.kid = "local-" + public_jwk["n"][:16]
        self.jwks = {"keys": [{**public_jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}
        self._keys = {k["kid"]: jwt.PyJWK(k) for k in self.jwks["keys"]}

    def key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            raise InvalidToken("unknown kid")
        return self._keys[kid]


def _load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(path)  # atomic: concurrent first runs agree on one key
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def local_sub(email: str) -> str:
    """The ``sub`` the local issuer gives an e-mail (stable, so a demo user is the same user every run)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"torium-local:{email.lower()}"))


def mint_local_token(email: str, groups=(), *, ttl: int = 12 * 3600, sub: str | None = None) -> str:
    """A Cognito-shaped access token signed by the local issuer."""
    verifier: TokenVerifier = current_app.extensions["torium_auth"]["verifier"]
    if not isinstance(verifier.keys, LocalKeySource):
        raise RuntimeError("a Cognito user pool is configured: get tokens from Cognito")
    now = int(clock.now().timestamp())
    claims = {
        "sub": sub or local_sub(email), "iss": verifier.issuer, "client_id": sorted(verifier.client_ids)[0],
        "token_use": "access", "scope": "aws.cognito.signin.user.admin", "auth_time": now, "iat": now,
        "exp": now + ttl, "jti": str(uuid.uuid4()), "username": email, "email": email, "email_verified": True,
        "cognito:groups": list(groups),
    }
    key = verifier.keys.private_key
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": verifier.keys.kid})
