"""Order state changes: every one is told to the owner through the notification backbone."""

from torium_api import clock
from torium_api.database import locked
from torium_api.errors import NotFound
from torium_api.extensions import db
from torium_api.notifications import Channel, request_notification
from torium_api.orders.models import Order, OrderStatus

MESSAGES = {
    OrderStatus.PENDING: "We have your order and are preparing it.",
    OrderStatus.RESERVED: "Your items are reserved for you.",
    OrderStatus.PAID: "Payment received.",
    OrderStatus.COMPLETED: "Your order is paid and on its way.",
    OrderStatus.RECEIVED: "Thank you for confirming delivery.",
    OrderStatus.NOT_RECEIVED: "We have not heard that your order arrived; our team will check.",
    OrderStatus.FAILED: "Your order could not be completed; nothing was charged.",
    OrderStatus.CANCELLED: "Your order was cancelled; any payment was refunded.",
    OrderStatus.REFUNDED: "Your order was refunded: its total is back in your wallet.",
}


def lock_order(order_id: int) -> Order:
    order = db.session.scalar(locked(db.select(Order).where(Order.id == order_id), of=Order))
    if order is None:
        raise NotFound("Order not found")
    return order


def move_to(order: Order, status: OrderStatus) -> Order:
    order.status = status
    order.updated_at = clock.now()
    if status is OrderStatus.COMPLETED:
        order.completed_at = order.updated_at
    if status in MESSAGES:
        request_notification(order.user_id, subject=f"Order #{order.id}: {status.value.replace('_', ' ')}",
                             text=MESSAGES[status], channel=Channel.PREFERRED, topic=order.topic,
                             data={"order_id": str(order.id), "status": status.value, "forward_link": "None"})
    return order
