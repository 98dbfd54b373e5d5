"""The back office on orders: cancel one in progress, refund a completed one, resolve one nobody confirmed."""

from torium_api import audit
from torium_api.actor import Actor
from torium_api.orders import services as orders


def _refund_detail(refund) -> dict:
    return {"refunded_cents": refund.refunded_cents, "fee_reversed_cents": refund.fee_reversed_cents,
            "shortfall_covered_cents": refund.shortfall_covered_cents, "sellers": refund.sellers}


def cancel(actor: Actor, order_id: int, reason: str):
    before = orders.state_of(orders.lock_order(order_id))
    order = orders.cancel_any(actor, order_id)
    audit.record(actor, "orders.cancel", "order", order_id, before=before, after=orders.state_of(order), reason=reason)
    return order


def refund(actor: Actor, order_id: int, reason: str, cover_shortfall: bool = False) -> dict:
    before = orders.state_of(orders.lock_order(order_id))
    result = orders.refund(actor, order_id, cover_shortfall=cover_shortfall)
    detail = _refund_detail(result)
    audit.record(actor, "orders.refund", "order", order_id, before=before,
                 after={**orders.state_of(result.order), **detail}, reason=reason)
    return {"order": result.order, **detail}


def resolve(actor: Actor, order_id: int, resolution: str, reason: str, cover_shortfall: bool = False) -> dict:
    """A not_received order: refund its buyer, or close it as delivered."""
    before = orders.state_of(orders.require_not_received(order_id))
    if resolution == "refund":
        result = orders.refund(actor, order_id, cover_shortfall=cover_shortfall)
        order, detail = result.order, _refund_detail(result)
    else:
        order, detail = orders.close_as_delivered(actor, order_id), None
    audit.record(actor, "orders.resolve", "order", order_id, before=before,
                 after={**orders.state_of(order), "resolution": resolution, **(detail or {})}, reason=reason)
    return {"order": order, "refund": detail}
