"""Placing, cancelling, confirming and reading orders (the HTTP side)."""

from flask import current_app

from torium_api.actor import Actor
from torium_api.errors import Conflict, Forbidden, Invalid, NotFound
from torium_api.extensions import db
from torium_api.orders.models import MAX_QUANTITY, Order, OrderLine, OrderStatus
from torium_api.orders.services.fulfilment import emit_step, undo
from torium_api.orders.services.settlement import platform_fee
from torium_api.orders.services.transitions import lock_order, move_to
from torium_api.paging import CursorPage, keyset_page
from torium_api.products import services as products

CANCELLABLE = (OrderStatus.PENDING, OrderStatus.RESERVED, OrderStatus.PAID)


def _merged(lines: list[dict]) -> dict[int, int]:
    quantities: dict[int, int] = {}
    for line in lines:
        quantities[line["product_id"]] = quantities.get(line["product_id"], 0) + line["quantity"]
    too_many = [pid for pid, quantity in quantities.items() if quantity > MAX_QUANTITY]
    if too_many:
        raise Invalid("Quantity too large", errors={"lines": [f"At most {MAX_QUANTITY} of products {too_many}."]})
    return quantities


def place_order(actor: Actor, lines: list[dict], shipping_address: dict) -> Order:
    """Price the lines from the catalogue (never from the client) and start fulfilment."""
    quantities = _merged(lines)
    catalogue = products.find_sellable(list(quantities))
    missing = sorted(set(quantities) - set(catalogue))
    if missing:
        raise Invalid("Unknown or unavailable products",
                      errors={"lines": [f"Unknown or unavailable products: {', '.join(map(str, missing))}"]})
    fee_bps = current_app.config["PLATFORM_FEE_BPS"]
    order = Order(user_id=actor.id, status=OrderStatus.PENDING, currency=current_app.config["CURRENCY"],
                  shipping_address=shipping_address,
                  total_cents=sum(catalogue[pid].price_cents * qty for pid, qty in quantities.items()),
                  lines=[OrderLine(product_id=pid, product_name=catalogue[pid].name, quantity=qty,
                                   unit_price_cents=catalogue[pid].price_cents, seller_id=catalogue[pid].seller_id,
                                   fee_cents=platform_fee(catalogue[pid].price_cents * qty, fee_bps))
                         for pid, qty in sorted(quantities.items())])
    db.session.add(order)
    db.session.flush()
    emit_step(move_to(order, OrderStatus.PENDING))
    return order


def _own(actor: Actor, order: Order | None, *, admins_too: bool) -> Order:
    if order is None or (order.user_id != actor.id and not (admins_too and actor.is_admin)):
        raise NotFound("Order not found")  # someone else's order does not exist for you
    return order


def get_order(actor: Actor, order_id: int) -> Order:
    return _own(actor, db.session.get(Order, order_id), admins_too=True)


def cancel_order(actor: Actor, order_id: int) -> Order:
    """The owner cancels before completion: refund and restock happen in this same transaction."""
    order = _own(actor, db.session.get(Order, order_id), admins_too=False)
    order = lock_order(order.id)
    if order.status not in CANCELLABLE:
        raise Conflict(f"A {order.status.value} order cannot be cancelled")
    undo(order)
    return move_to(order, OrderStatus.CANCELLED)


def confirm_receipt(actor: Actor, order_id: int) -> Order:
    """The owner confirms delivery; confirming again changes nothing."""
    order = lock_order(_own(actor, db.session.get(Order, order_id), admins_too=False).id)
    if order.status is OrderStatus.RECEIVED:
        return order
    if order.status not in (OrderStatus.COMPLETED, OrderStatus.NOT_RECEIVED):
        raise Conflict(f"A {order.status.value} order cannot be confirmed as received")
    return move_to(order, OrderStatus.RECEIVED)


def list_orders(actor: Actor, *, everyone: bool = False, user_id: int | None = None,
                status: OrderStatus | None = None, cursor: str | None = None, limit: int = 20) -> CursorPage:
    """Newest first, in keyset pages: the caller's own, or (admins, ``everyone``) all."""
    if everyone and not actor.is_admin:
        raise Forbidden("Only admins can list every order")
    query = db.select(Order)
    if not everyone:
        query = query.where(Order.user_id == actor.id)
    elif user_id is not None:
        query = query.where(Order.user_id == user_id)
    if status is not None:
        query = query.where(Order.status == status)
    return keyset_page(query, "orders", cursor, limit, id_column=Order.id)
