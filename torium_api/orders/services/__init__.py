"""The orders domain's public functions."""

from torium_api.orders.services.fulfilment import charge, expire_receipts, give_up, reap_stuck, reserve_stock, ship
from torium_api.orders.services.placing import cancel_order, confirm_receipt, get_order, list_orders, place_order

__all__ = ["cancel_order", "charge", "confirm_receipt", "expire_receipts", "get_order", "give_up", "list_orders",
           "place_order", "reap_stuck", "reserve_stock", "ship"]
