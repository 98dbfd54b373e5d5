"""/admin/...: the back office. Admins only: the blueprint's guard refuses everyone else (403) before arguments
are read; money actions take an Idempotency-Key."""

from flask import request
from flask.views import MethodView

from torium_api import audit
from torium_api.accounts.schemas import LedgerEntrySchema, MovementSchema, PayoutSchema
from torium_api.actor import AppRole
from torium_api.admin import blp
from torium_api.admin.schemas import (
    AdjustmentSchema,
    AdminUserDetailSchema,
    AdminUserQueryArgsSchema,
    AdminUserSchema,
    AdminUserUpdateSchema,
    AuditEntrySchema,
    AuditQueryArgsSchema,
    ErasureSchema,
    PayoutDecisionSchema,
    PayoutQueryArgsSchema,
    PlatformAccountsSchema,
    ReasonSchema,
    RefundCreateSchema,
    RefundSchema,
    ResolutionCreateSchema,
    ResolutionSchema,
    RoleChangeSchema,
)
from torium_api.admin.services import customers, orders, payouts
from torium_api.auth import current_actor
from torium_api.database import transaction
from torium_api.errors import Forbidden, NotFound
from torium_api.idempotency import DOC as IDEMPOTENCY_DOC
from torium_api.idempotency import idempotent
from torium_api.orders.schemas import OrderSchema
from torium_api.paging import CursorPageArgsSchema

ROLE_DOC = {"parameters": [{"in": "path", "name": "role", "required": True,
                            "schema": {"type": "string", "enum": [role.value for role in AppRole]}}]}


def _role(name: str) -> AppRole:
    try:
        return AppRole(name)
    except ValueError:
        raise NotFound("No such role: admin or seller") from None


@blp.before_request
def admins_only():
    if request.method != "OPTIONS" and not current_actor().is_admin:
        raise Forbidden("Only admins can use the back office")


@blp.route("/admin/users")
class Users(MethodView):
    @blp.arguments(AdminUserQueryArgsSchema, location="query")
    @blp.cursor_page(AdminUserSchema)
    @blp.alt_response(403, description="Not an admin")
    def get(self, args):
        """Users by id: search e-mail or username, filter by status or role"""
        return customers.list_users(current_actor(), **args)


@blp.route("/admin/users/<int:user_id>")
class UserById(MethodView):
    @blp.response(200, AdminUserDetailSchema)
    @blp.alt_response(404, description="No such user")
    def get(self, user_id):
        """One user: profile, roles, status, balance, orders per status"""
        return customers.user_detail(current_actor(), user_id)

    @blp.arguments(AdminUserUpdateSchema)
    @blp.response(200, AdminUserDetailSchema)
    @blp.alt_response(409, description="The account was deleted")
    def patch(self, data, user_id):
        """Change profile fields (username, time zone, reminder channel, organization), with a reason"""
        with transaction():
            return customers.update_user(current_actor(), user_id, **data)

    @blp.arguments(ReasonSchema)
    @blp.response(200, ErasureSchema)
    @blp.alt_response(409, description="Orders in progress, money in the wallet, products listed, or yourself")
    def delete(self, data, user_id):
        """Erase a user (as DELETE /users/me does), with a reason"""
        with transaction():
            return customers.erase_user(current_actor(), user_id, data["reason"])


@blp.route("/admin/users/<int:user_id>/disable")
class DisableUser(MethodView):
    @blp.doc(operationId="disableUser")
    @blp.arguments(ReasonSchema)
    @blp.response(200, AdminUserDetailSchema)
    @blp.alt_response(409, description="Yourself, or a deleted account")
    def post(self, data, user_id):
        """Refuse the user's tokens at once; Cognito disables the user in the background"""
        with transaction():
            return customers.set_disabled(current_actor(), user_id, True, data["reason"])


@blp.route("/admin/users/<int:user_id>/enable")
class EnableUser(MethodView):
    @blp.doc(operationId="enableUser")
    @blp.arguments(ReasonSchema)
    @blp.response(200, AdminUserDetailSchema)
    @blp.alt_response(409, description="A deleted account")
    def post(self, data, user_id):
        """Accept the user's tokens again; Cognito enables the user in the background"""
        with transaction():
            return customers.set_disabled(current_actor(), user_id, False, data["reason"])


@blp.route("/admin/users/<int:user_id>/roles/<string:role>")
class UserRole(MethodView):
    @blp.doc(**ROLE_DOC, operationId="grantUserRole")
    @blp.arguments(ReasonSchema)
    @blp.response(200, RoleChangeSchema)
    def put(self, data, user_id, role):
        """Grant the seller or admin role: it reaches the API in the user's next token"""
        with transaction():
            return customers.change_role(current_actor(), user_id, _role(role), True, data["reason"])

    @blp.doc(**ROLE_DOC, operationId="revokeUserRole")
    @blp.arguments(ReasonSchema)
    @blp.response(200, RoleChangeSchema)
    @blp.alt_response(409, description="Your own admin role")
    def delete(self, data, user_id, role):
        """Revoke the seller or admin role: refused at once, even in tokens already issued"""
        with transaction():
            return customers.change_role(current_actor(), user_id, _role(role), False, data["reason"])


@blp.route("/admin/users/<int:user_id>/ledger")
class UserLedger(MethodView):
    @blp.arguments(CursorPageArgsSchema, location="query")
    @blp.cursor_page(LedgerEntrySchema, name="Ledger")
    def get(self, args, user_id):
        """A user's ledger, newest first"""
        return customers.ledger(current_actor(), user_id, **args)


@blp.route("/admin/users/<int:user_id>/adjustments")
class Adjustments(MethodView):
    @idempotent
    @blp.arguments(AdjustmentSchema)
    @blp.response(201, MovementSchema)
    @blp.alt_response(409, description="The balance would go below zero")
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, data, user_id):
        """Correct a balance by a signed amount, with a reason (ledger kind adjustment; never below zero)"""
        with transaction():
            return customers.adjust_balance(current_actor(), user_id, **data)


@blp.route("/admin/orders/<int:order_id>/cancel")
class CancelAnyOrder(MethodView):
    @idempotent
    @blp.arguments(ReasonSchema)
    @blp.response(200, OrderSchema)
    @blp.alt_response(409, description="Not in progress (refund a completed order instead)")
    @blp.doc(**IDEMPOTENCY_DOC, operationId="cancelAnyOrder")
    def post(self, data, order_id):
        """Cancel any order still in progress: a paid one is refunded from escrow and restocked at once"""
        with transaction():
            return orders.cancel(current_actor(), order_id, data["reason"])


@blp.route("/admin/orders/<int:order_id>/refund")
class RefundOrder(MethodView):
    @idempotent
    @blp.arguments(RefundCreateSchema)
    @blp.response(200, RefundSchema)
    @blp.alt_response(409, description="Not completed, or a seller already withdrew (see cover_shortfall)")
    @blp.doc(**IDEMPOTENCY_DOC, operationId="refundOrder")
    def post(self, data, order_id):
        """Refund a completed order: the sellers' credits and the fee go back to the buyer"""
        with transaction():
            return orders.refund(current_actor(), order_id, **data)


@blp.route("/admin/orders/<int:order_id>/resolve")
class ResolveOrder(MethodView):
    @idempotent
    @blp.arguments(ResolutionCreateSchema)
    @blp.response(200, ResolutionSchema)
    @blp.alt_response(409, description="Not a not_received order")
    @blp.doc(**IDEMPOTENCY_DOC, operationId="resolveOrder")
    def post(self, data, order_id):
        """Resolve a not_received order: refund its buyer, or close it as delivered"""
        with transaction():
            return orders.resolve(current_actor(), order_id, **data)


@blp.route("/admin/payouts")
class AllPayouts(MethodView):
    trm_user_id_target_methods = ("GET",)  # ?user_id= filters whose payouts are listed (admins), not the caller

    @blp.arguments(PayoutQueryArgsSchema, location="query")
    @blp.cursor_page(PayoutSchema, name="AllPayouts")
    def get(self, args):
        """Every payout, newest first (filter by status, user)"""
        return payouts.list_payouts(current_actor(), **args)


@blp.route("/admin/payouts/<int:payout_id>")
class PayoutById(MethodView):
    @idempotent
    @blp.arguments(PayoutDecisionSchema)
    @blp.response(200, PayoutSchema)
    @blp.alt_response(409, description="Already paid or failed")
    @blp.doc(**IDEMPOTENCY_DOC, operationId="decidePayout")
    def patch(self, data, payout_id):
        """Record a requested payout as paid, or failed (its money goes back to the wallet)"""
        with transaction():
            return payouts.decide(current_actor(), payout_id, **data)


@blp.route("/admin/platform")
class Platform(MethodView):
    @blp.response(200, PlatformAccountsSchema)
    def get(self):
        """The platform's accounts: its fees and the escrow of orders paid but not completed"""
        return payouts.platform(current_actor())


@blp.route("/admin/audit")
class Audit(MethodView):
    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.cursor_page(AuditEntrySchema)
    def get(self, args):
        """The audit log, newest first: filter by admin, target, action and time"""
        return audit.entries(current_actor(), **args)
