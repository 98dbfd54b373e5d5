"""The webhook's signature, like Stripe's: header ``Torium-Signature: t=<unix seconds>,v1=<hex>``.

``v1`` is the lowercase hex HMAC-SHA256, keyed with the shared secret (``PAYMENT_WEBHOOK_SECRET``), of the string
``"<t>.<raw request body>"``: the ``t`` value exactly as sent, a dot, the body's bytes exactly as sent. Several
``v1`` may be sent (the provider rolling its secret) and several secrets configured (ours rolling): one match is
enough. ``t`` further than ``PAYMENT_WEBHOOK_TOLERANCE_SECONDS`` from now, either way, is refused: a captured call
cannot be replayed later (and within the window, the event id makes a replay change nothing).
"""

import hashlib
import hmac
import re

HEADER = "Torium-Signature"
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_HEADER = 1024
MAX_SIGNATURES = 5


class BadSignature(Exception):
    """Why a webhook call is refused (the provider's developers may read it: it reveals no secret)."""


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header_for(secret: str, timestamp: int, body: bytes) -> str:
    """What the provider sends (for tests and docs/admin.md's example)."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(header: str | None, body: bytes, secrets: list[str], *, now: float, tolerance: int) -> int:
    """The signed timestamp, or ``BadSignature``."""
    if not header:
        raise BadSignature(f"{HEADER} header missing")
    if len(header) > MAX_HEADER:
        raise BadSignature(f"{HEADER} header too long")
    pairs = [part.strip().partition("=") for part in header.split(",")]
    timestamps = [value for key, _, value in pairs if key == "t"]
    signatures = [value for key, _, value in pairs if key == "v1"]
    if len(timestamps) != 1 or not _TIMESTAMP.match(timestamps[0]) or not signatures \
            or len(signatures) > MAX_SIGNATURES or not all(_HEX.match(s) for s in signatures):
        raise BadSignature(f"{HEADER} must be t=<unix seconds>,v1=<64 hex digits>")
    if abs(now - int(timestamps[0])) > tolerance:
        raise BadSignature(f"{HEADER} timestamp is outside the tolerance window")
    for secret in secrets:
        expected = sign(secret, timestamps[0], body)
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return int(timestamps[0])
    raise BadSignature(f"{HEADER} does not match the body")
