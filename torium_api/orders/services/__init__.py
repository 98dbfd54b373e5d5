"""The orders domain's public functions."""

from torium_api.orders.services.back_office import (
    all_orders,
    cancel_any,
    close_as_delivered,
    count_by_status,
    forget_addresses,
    has_orders_in_progress,
    refund,
    require_not_received,
    state_of,
)
from torium_api.orders.services.fulfilment import charge, expire_receipts, give_up, reap_stuck, reserve_stock, ship
from torium_api.orders.services.placing import cancel_order, confirm_receipt, get_order, list_orders, place_order
from torium_api.orders.services.sales import list_sales, sales_totals
from torium_api.orders.services.settlement import SellerShortfall, platform_fee
from torium_api.orders.services.transitions import lock_order

__all__ = ["SellerShortfall", "all_orders", "cancel_any", "cancel_order", "charge", "close_as_delivered",
           "confirm_receipt", "count_by_status", "expire_receipts", "forget_addresses", "get_order", "give_up",
           "has_orders_in_progress", "list_orders", "list_sales", "lock_order", "place_order", "platform_fee",
           "reap_stuck", "refund", "require_not_received", "reserve_stock", "sales_totals", "ship", "state_of"]
