"""The saga's steps as message handlers (registered in workers/__init__.py)."""

from torium_api.orders import services


def on_order_placed(payload: dict, *, message_id: str) -> None:
    services.reserve_stock(payload["order_id"])


def on_stock_reserved(payload: dict, *, message_id: str) -> None:
    services.charge(payload["order_id"])


def on_order_paid(payload: dict, *, message_id: str) -> None:
    services.ship(payload["order_id"])
