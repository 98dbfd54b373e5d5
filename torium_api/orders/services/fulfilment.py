"""The fulfilment saga. Each step is one transaction, runs only from its expected state (under the
order's row lock) and is therefore idempotent under redelivery:

    pending --reserve--> reserved --charge--> paid --ship--> completed
       any failure --> failed (with a typed reason), stock released and payment refunded

Money (``settlement.py``): the charge moves the buyer's money to escrow; completing the order pays the sellers and
the platform's fee from escrow in the same transaction; a failure or cancellation after the charge returns it.
"""

import logging
import uuid
from datetime import timedelta

from flask import current_app

from torium_api import clock, queues
from torium_api.accounts import services as wallet
from torium_api.database import locked
from torium_api.extensions import db
from torium_api.orders.models import IN_PROGRESS, FailureReason, Order, OrderStatus, Shipment
from torium_api.orders.services import settlement
from torium_api.orders.services.transitions import lock_order, move_to
from torium_api.outbox import emit
from torium_api.products import services as products

log = logging.getLogger(__name__)
NEXT_STEP = {OrderStatus.PENDING: "orders.placed", OrderStatus.RESERVED: "orders.stock_reserved",
             OrderStatus.PAID: "orders.paid"}


class _NotAll(Exception):
    """Rolls the reservation's savepoint back."""


def emit_step(order: Order) -> None:
    emit(NEXT_STEP[order.status], {"order_id": order.id}, queue=queues.ORDERS, group_id=order.topic)


def reserve_stock(order_id: int) -> None:
    order = lock_order(order_id)
    if order.status is not OrderStatus.PENDING:
        return
    problems: dict[str, list[int]] = {}
    try:
        with db.session.begin_nested():  # all lines or none
            for line in order.lines:  # ordered by product id: concurrent orders lock rows in one order
                if (problem := products.take_stock(line.product_id, line.quantity)) is not None:
                    problems.setdefault(problem, []).append(line.product_id)
            if problems:
                raise _NotAll()
    except _NotAll:
        reason = FailureReason.PRODUCT_UNAVAILABLE if "product_unavailable" in problems else FailureReason.OUT_OF_STOCK
        _fail(order, reason, {"product_ids": problems.get(reason.value, [])})
        return
    emit_step(move_to(order, OrderStatus.RESERVED))


def charge(order_id: int) -> None:
    order = lock_order(order_id)
    if order.status is not OrderStatus.RESERVED:
        return
    try:
        with db.session.begin_nested():
            settlement.hold(order)
    except wallet.InsufficientFunds:
        _fail(order, FailureReason.INSUFFICIENT_FUNDS, {"total_cents": order.total_cents})
        return
    emit_step(move_to(order, OrderStatus.PAID))


def ship(order_id: int) -> None:
    order = lock_order(order_id)
    if order.status is not OrderStatus.PAID:
        return
    db.session.add(Shipment(order_id=order.id, tracking_number=f"TRM{uuid.uuid4().hex[:12].upper()}"))
    settlement.release(order)
    move_to(order, OrderStatus.COMPLETED)


def undo(order: Order) -> None:
    """Compensate whatever the saga did so far: refund a payment, return reserved stock."""
    if order.status is OrderStatus.PAID:
        settlement.return_held(order)
    if order.status in (OrderStatus.RESERVED, OrderStatus.PAID):
        for line in order.lines:
            products.return_stock(line.product_id, line.quantity)


def _fail(order: Order, reason: FailureReason, detail: dict | None = None) -> None:
    undo(order)
    order.failure_reason, order.failure_detail = reason, detail
    move_to(order, OrderStatus.FAILED)
    log.info("order failed", extra={"order_id": order.id, "reason": reason.value})


def fail_order(order_id: int, reason: FailureReason, detail: dict | None = None) -> None:
    """Fail an order that is still in progress (the give-up hook and the reaper); final ones stay."""
    order = lock_order(order_id)
    if order.status in IN_PROGRESS:
        _fail(order, reason, detail)


def give_up(payload: dict, error: str) -> None:
    """Called when a saga message is about to be dead-lettered: the order must not stay in progress."""
    fail_order(payload["order_id"], FailureReason.PROCESSING_ERROR, {"error": error[:200]})


def reap_stuck() -> int:
    """Scheduler job: re-drive orders idle in a step too long, a few times, then fail them."""
    config = current_app.config
    cutoff = clock.now() - timedelta(seconds=config["ORDER_STEP_TIMEOUT_SECONDS"])
    idle = (db.select(Order).where(Order.status.in_(IN_PROGRESS), Order.updated_at < cutoff)
            .order_by(Order.updated_at).limit(200))
    stuck = db.session.scalars(locked(idle, of=Order, skip_locked=True))
    count = 0
    for order in stuck:
        if order.retries < config["ORDER_MAX_RETRIES"]:
            order.retries += 1
            order.updated_at = clock.now()
            emit_step(order)
        else:
            _fail(order, FailureReason.FULFILMENT_TIMEOUT, {"stuck_in": order.status.value})
        count += 1
    return count


def expire_receipts() -> int:
    """Scheduler job: completed orders nobody confirmed in time become not_received (for the admins)."""
    cutoff = clock.now() - timedelta(seconds=current_app.config["ORDER_RECEIPT_TIMEOUT_SECONDS"])
    unconfirmed = db.select(Order).where(Order.status == OrderStatus.COMPLETED, Order.completed_at < cutoff).limit(500)
    overdue = db.session.scalars(locked(unconfirmed, of=Order, skip_locked=True)).all()
    for order in overdue:
        move_to(order, OrderStatus.NOT_RECEIVED)
    return len(overdue)
