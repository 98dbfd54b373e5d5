"""/orders: place (202, fulfilled in the background), read, cancel, confirm receipt; /admin/orders; a seller's
sales (/sellers/me/sales)."""

from flask import current_app
from flask.views import MethodView

from torium_api.auth import current_actor
from torium_api.database import transaction
from torium_api.extensions import limiter
from torium_api.idempotency import DOC as IDEMPOTENCY_DOC
from torium_api.idempotency import idempotent
from torium_api.orders import blp, services
from torium_api.orders.schemas import (
    AdminOrderQueryArgsSchema,
    OrderCreateSchema,
    OrderQueryArgsSchema,
    OrderSchema,
    SaleQueryArgsSchema,
    SaleSchema,
    SalesTotalSchema,
    SalesTotalsQueryArgsSchema,
)


@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(OrderQueryArgsSchema, location="query")
    @blp.cursor_page(OrderSchema)
    def get(self, args):
        """The caller's orders, newest first (filter by `status`)"""
        return services.list_orders(current_actor(), **args)

    @limiter.limit(lambda: current_app.config["RATELIMIT_ORDERS"])
    @idempotent
    @blp.arguments(OrderCreateSchema)
    @blp.response(202, OrderSchema)
    @blp.alt_response(429, description="Too many orders")
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, data):
        """Place an order: priced from the catalogue, then reserved, charged and shipped in the background"""
        with transaction():
            order = services.place_order(current_actor(), **data)
        return order, {"Location": f"/orders/{order.id}"}


@blp.route("/orders/<int:order_id>")
class OrderById(MethodView):
    @blp.response(200, OrderSchema)
    def get(self, order_id):
        """One order (its owner or an admin); poll it to follow fulfilment"""
        return services.get_order(current_actor(), order_id)


@blp.route("/orders/<int:order_id>/cancel")
class CancelOrder(MethodView):
    @blp.doc(operationId="cancelOrder")
    @blp.response(200, OrderSchema)
    @blp.alt_response(409, description="Completed orders cannot be cancelled")
    def post(self, order_id):
        """Cancel before completion; a paid order is refunded and restocked at once"""
        with transaction():
            return services.cancel_order(current_actor(), order_id)


@blp.route("/orders/<int:order_id>/receipt")
class OrderReceipt(MethodView):
    @blp.doc(operationId="confirmOrderReceipt")
    @blp.response(200, OrderSchema)
    @blp.alt_response(409, description="Only a completed (shipped) or not_received order can be confirmed")
    def post(self, order_id):
        """Confirm the order arrived"""
        with transaction():
            return services.confirm_receipt(current_actor(), order_id)


@blp.route("/admin/orders")
class AllOrders(MethodView):
    trm_user_id_target_methods = ("GET",)  # here ?user_id= filters whose orders are listed (admins), not the caller
    @blp.arguments(AdminOrderQueryArgsSchema, location="query")
    @blp.cursor_page(OrderSchema)
    def get(self, args):
        """Admins: every order, newest first (filter by `status`, `user_id`)"""
        return services.list_orders(current_actor(), everyone=True, **args)


@blp.route("/sellers/me/sales")
class Sales(MethodView):
    @blp.arguments(SaleQueryArgsSchema, location="query")
    @blp.cursor_page(SaleSchema)
    @blp.alt_response(403, description="Not a seller")
    def get(self, args):
        """Sellers: orders with the caller's products (their lines, fee and net), newest first"""
        return services.list_sales(current_actor(), **args)


@blp.route("/sellers/me/sales/totals")
class SalesTotals(MethodView):
    @blp.arguments(SalesTotalsQueryArgsSchema, location="query")
    @blp.response(200, SalesTotalSchema(many=True))
    @blp.alt_response(403, description="Not a seller")
    def get(self, args):
        """Sellers: what they were paid per day or month (the caller's time zone), and refunds taken back"""
        return services.sales_totals(current_actor(), **args)
