"""Orders and their fulfilment saga.

Layering note (a deliberate deviation from the house's products → orders → accounts): here `orders`
imports `accounts`, whose wallet is a plain ledger primitive that knows nothing about orders. Cancelling
a paid order must refund, restock and change the status in ONE transaction, and so must every
compensation; with accounts above orders that would need a message and leave a window where an order
is cancelled but not yet refunded.
"""

from torium_api.web import Blueprint

blp = Blueprint("orders", __name__, description="Orders: placed against the wallet, fulfilled in the background")

from torium_api.orders import views  # noqa: E402,F401
