"""What the back office does to orders (admins only): cancel any, refund completed ones, resolve those nobody
confirmed. Each locks the order first; the money moves in ``settlement``. Also what other parts of the back office
read about a user's orders (counts, the export, erasure)."""

from sqlalchemy import func

from torium_api import clock
from torium_api.actor import Actor
from torium_api.errors import Conflict
from torium_api.extensions import db
from torium_api.orders.models import DELIVERED, IN_PROGRESS, Order, OrderStatus
from torium_api.orders.services import settlement
from torium_api.orders.services.fulfilment import undo
from torium_api.orders.services.transitions import lock_order, move_to

CANCELLABLE = IN_PROGRESS


def state_of(order: Order) -> dict:
    """What the audit log records of an order before and after an action."""
    return {"status": order.status.value, "total_cents": order.total_cents,
            "settled": order.settled_at is not None, "refunded": order.refunded_at is not None}


def cancel_any(actor: Actor, order_id: int) -> Order:
    """Admins: cancel an order still in progress; a paid one is refunded from escrow and restocked at once."""
    actor.require_admin("cancel other users' orders")
    order = lock_order(order_id)
    if order.status not in CANCELLABLE:
        hint = " (refund it instead)" if order.status in DELIVERED else ""
        raise Conflict(f"A {order.status.value} order cannot be cancelled{hint}")
    undo(order)
    return move_to(order, OrderStatus.CANCELLED)


def refund(actor: Actor, order_id: int, *, cover_shortfall: bool = False) -> settlement.Refund:
    """Admins: give a completed (received, not received) order's total back to its buyer; the goods are not
    restocked (a return, if any, is restocked through the product)."""
    actor.require_admin("refund orders")
    order = lock_order(order_id)
    if order.status not in DELIVERED:
        hint = " (cancel it instead)" if order.status in IN_PROGRESS else ""
        raise Conflict(f"A {order.status.value} order cannot be refunded{hint}")
    result = settlement.reverse(order, cover_shortfall=cover_shortfall)
    order.refunded_at = clock.now()
    move_to(order, OrderStatus.REFUNDED)
    return result


def close_as_delivered(actor: Actor, order_id: int) -> Order:
    """Admins: an order nobody confirmed (not_received) did arrive after all."""
    actor.require_admin("resolve orders")
    order = lock_order(order_id)
    if order.status is not OrderStatus.NOT_RECEIVED:
        raise Conflict(f"Only not_received orders can be resolved; this one is {order.status.value}")
    return move_to(order, OrderStatus.RECEIVED)


def require_not_received(order_id: int) -> Order:
    order = lock_order(order_id)
    if order.status is not OrderStatus.NOT_RECEIVED:
        raise Conflict(f"Only not_received orders can be resolved; this one is {order.status.value}")
    return order


def count_by_status(user_id: int) -> dict[str, int]:
    rows = db.session.execute(db.select(Order.status, func.count()).where(Order.user_id == user_id)
                              .group_by(Order.status))
    return {status.value: count for status, count in rows}


def has_orders_in_progress(user_id: int) -> bool:
    return db.session.scalar(db.select(func.count()).select_from(Order).where(
        Order.user_id == user_id, Order.status.in_(IN_PROGRESS))) > 0


def all_orders(user_id: int) -> list[Order]:
    """A user's orders, oldest first (their data export)."""
    return list(db.session.scalars(db.select(Order).where(Order.user_id == user_id).order_by(Order.id)))


def forget_addresses(user_id: int) -> None:
    """Erasure: the orders stay (financial records), their shipping addresses go but the country."""
    db.session.execute(db.update(Order).where(Order.user_id == user_id).values(shipping_address=func.jsonb_build_object(
        "country", Order.shipping_address["country"], "erased", True)))
