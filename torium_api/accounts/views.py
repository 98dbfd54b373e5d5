"""/accounts: the caller's wallet (`me`) and the admins' customer list."""

from flask.views import MethodView

from torium_api.accounts import blp, services
from torium_api.accounts.schemas import (
    AccountSchema,
    AmountSchema,
    CustomerQueryArgsSchema,
    CustomerSchema,
    LedgerEntrySchema,
    MovementSchema,
    PayoutSchema,
    WithdrawalSchema,
)
from torium_api.auth import current_actor
from torium_api.database import transaction
from torium_api.idempotency import DOC as IDEMPOTENCY_DOC
from torium_api.idempotency import idempotent
from torium_api.paging import CursorPageArgsSchema


@blp.route("/accounts/me")
class MyAccount(MethodView):
    @blp.response(200, AccountSchema)
    def get(self):
        """The caller's balance"""
        return services.get_account(current_actor())


@blp.route("/accounts/me/deposits")
class Deposits(MethodView):
    @idempotent
    @blp.arguments(AmountSchema)
    @blp.response(201, MovementSchema)
    @blp.alt_response(403, description="Deposits are disabled (production: money enters through the provider)")
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, data):
        """Development and the demo only: add money to the caller's wallet from nowhere"""
        with transaction():
            return services.deposit(current_actor(), data["amount_cents"])


@blp.route("/accounts/me/withdrawals")
class Withdrawals(MethodView):
    @idempotent
    @blp.arguments(AmountSchema)
    @blp.response(201, WithdrawalSchema)
    @blp.alt_response(409, description="Insufficient funds")
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, data):
        """Take money out of the caller's wallet (never below zero): a payout an admin pays to the caller's bank"""
        with transaction():
            return services.withdraw(current_actor(), data["amount_cents"])


@blp.route("/accounts/me/transactions")
class Transactions(MethodView):
    @blp.arguments(CursorPageArgsSchema, location="query")
    @blp.cursor_page(LedgerEntrySchema, name="Ledger")
    def get(self, args):
        """The caller's ledger, newest first"""
        return services.list_entries(current_actor(), **args)


@blp.route("/accounts/me/payouts")
class Payouts(MethodView):
    @blp.arguments(CursorPageArgsSchema, location="query")
    @blp.cursor_page(PayoutSchema)
    def get(self, args):
        """The caller's payouts (withdrawals) and where each stands, newest first"""
        return services.my_payouts(current_actor(), **args)


@blp.route("/accounts")
class Customers(MethodView):
    @blp.arguments(CustomerQueryArgsSchema, location="query")
    @blp.cursor_page(CustomerSchema)
    def get(self, args):
        """Admins: users and their balances, searchable by e-mail"""
        return services.list_customers(current_actor(), **args)
