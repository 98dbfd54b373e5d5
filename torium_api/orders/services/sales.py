"""A seller's sales: the orders with their products (their lines only, never the buyer), and totals per day or
month of what they were paid (settled orders, by the day escrow paid them, in the seller's time zone)."""

from datetime import date, timedelta

from sqlalchemy import case, exists, func

from torium_api import clock
from torium_api.actor import Actor
from torium_api.errors import Forbidden, Invalid
from torium_api.extensions import db
from torium_api.orders.models import Order, OrderLine, OrderStatus
from torium_api.paging import CursorPage, keyset_page
from torium_api.users import services as users

MAX_BUCKETS = {"day": 366, "month": 120}


def _seller(actor: Actor) -> None:
    if not (actor.is_seller or actor.is_admin):
        raise Forbidden("Only sellers have sales")


def list_sales(actor: Actor, status: OrderStatus | None = None, cursor: str | None = None,
               limit: int = 20) -> CursorPage:
    """Orders with the caller's products, newest first: their lines of each, gross, fee and net."""
    _seller(actor)
    mine = exists().where(OrderLine.order_id == Order.id, OrderLine.seller_id == actor.id)
    query = db.select(Order).where(mine)
    if status is not None:
        query = query.where(Order.status == status)
    page = keyset_page(query, "sales", cursor, limit, id_column=Order.id)
    return CursorPage([_sale(order, actor.id) for order in page.items], page.next_cursor)


def _sale(order: Order, seller_id: int) -> dict:
    lines = [line for line in order.lines if line.seller_id == seller_id]
    return {"order_id": order.id, "status": order.status, "created_at": order.created_at,
            "completed_at": order.completed_at, "settled_at": order.settled_at, "refunded_at": order.refunded_at,
            "lines": lines, "gross_cents": sum(line.total_cents for line in lines),
            "fee_cents": sum(line.fee_cents for line in lines), "net_cents": sum(line.net_cents for line in lines)}


def sales_totals(actor: Actor, period: str, since: date | None = None, until: date | None = None) -> list[dict]:
    """Per ``period`` (day or month) in [since, until): settled orders, items, gross, fee, net and how much of the
    net was taken back by refunds since. Defaults: the last 30 days, or the last 12 months."""
    _seller(actor)
    zone = users.zone_of(actor.user)
    since, until = _window(clock.now().astimezone(zone).date(), period, since, until)
    local = func.timezone(zone.key, Order.settled_at)
    bucket = func.date_trunc(period, local).label("bucket")
    line_total = OrderLine.unit_price_cents * OrderLine.quantity
    refunded = case((Order.refunded_at.is_not(None), line_total - OrderLine.fee_cents), else_=0)
    rows = db.session.execute(
        db.select(bucket, func.count(func.distinct(Order.id)), func.sum(OrderLine.quantity), func.sum(line_total),
                  func.sum(OrderLine.fee_cents), func.sum(refunded))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.seller_id == actor.id, Order.settled_at.is_not(None), local >= since, local < until)
        .group_by(bucket).order_by(bucket))
    label = "%Y-%m-%d" if period == "day" else "%Y-%m"
    return [{"period": start.strftime(label), "orders": orders, "items": int(items), "gross_cents": int(gross),
             "fee_cents": int(fees), "net_cents": int(gross) - int(fees), "refunded_net_cents": int(back)}
            for start, orders, items, gross, fees, back in rows]


def _months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _window(today: date, period: str, since: date | None, until: date | None) -> tuple[date, date]:
    until = until or today + timedelta(days=1)
    if since is None:
        months_back = _months(date(1, 1, 1), until.replace(day=1)) - 11
        since = until - timedelta(days=30) if period == "day" else date(1 + months_back // 12, months_back % 12 + 1, 1)
    if since >= until:
        raise Invalid("since must be before until", errors={"since": ["Must be before until."]})
    buckets = (until - since).days if period == "day" else _months(since, until) + 1
    if buckets > MAX_BUCKETS[period]:
        raise Invalid(f"At most {MAX_BUCKETS[period]} {period}s at once", errors={"since": ["Too long a range."]})
    return since, until
