"""Money entering the platform: the payment provider's webhook credits a wallet when it reports a successful
payment. The only way money enters outside development (``POST /accounts/me/deposits`` is off in production).

Not a user route: no token. The provider signs each call (``signature.py``); the blueprint checks the signature
before it reads anything else, and the provider's event id makes a redelivery change nothing (docs/admin.md).
Above ``accounts``: it credits a wallet through the accounts domain's ledger.
"""

from torium_api.web import Blueprint

blp = Blueprint("payments", __name__, description="The payment provider's webhook (HMAC-signed, no token)")

from torium_api.payments import views  # noqa: E402,F401
