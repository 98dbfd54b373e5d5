"""The back office's request and response schemas (it reuses the domains' response schemas where they fit)."""

from zoneinfo import available_timezones

import marshmallow as ma
from marshmallow import validate

from torium_api.accounts.schemas import LedgerEntrySchema, PayoutSchema
from torium_api.actor import AppRole
from torium_api.events.schemas import EventSchema
from torium_api.fields import FlexibleInteger, RenderedList, StrictSchema
from torium_api.groups.schemas import GroupSchema
from torium_api.orders.schemas import OrderSchema
from torium_api.paging import cursor_field, limit_field
from torium_api.users.models import ReminderPreference
from torium_api.users.schemas import UserSchema

ID = validate.Range(min=1, max=2**31 - 1)
MAX_ADJUSTMENT_CENTS = 100_000_000  # 1,000,000.00 either way per correction
REASON = ma.fields.String(required=True, validate=validate.Length(min=3, max=500),
                          metadata={"description": "Why: kept in the audit log"})
STATUSES = ["active", "disabled", "deleted"]


def _zone(name: str) -> None:
    if name not in available_timezones():
        raise ma.ValidationError("Must be an IANA time zone name, e.g. Europe/Warsaw.")


# --- users ------------------------------------------------------------------------------------------------------

class AdminUserQueryArgsSchema(ma.Schema):
    q = ma.fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Part of an e-mail or "
                                                                                            "username"})
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    role = ma.fields.Enum(AppRole, by_value=True)
    cursor = cursor_field()
    limit = limit_field()


class AdminUserSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    username = ma.fields.String(required=True, allow_none=True)
    status = ma.fields.String(required=True, metadata={"enum": STATUSES})
    roles = ma.fields.List(ma.fields.String(metadata={"enum": [r.value for r in AppRole]}), required=True,
                           metadata={"description": "Granted through the back office or seen in the user's token"})
    created_at = ma.fields.DateTime(required=True)
    disabled_at = ma.fields.DateTime(required=True, allow_none=True)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminUserDetailSchema(AdminUserSchema):
    mobile_number = ma.fields.String(required=True, allow_none=True)
    timezone = ma.fields.String(required=True, allow_none=True)
    reminder_preferences = ma.fields.String(required=True, allow_none=True)
    organization_id = ma.fields.Integer(required=True, allow_none=True)
    cognito_user_id = ma.fields.String(required=True, metadata={"description": "The Cognito sub"})
    balance_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    order_counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True,
                                  metadata={"description": "The user's orders per status"})


class AdminUserUpdateSchema(StrictSchema):
    EXAMPLE = {"timezone": "Europe/Warsaw", "reason": "Support ticket 4411: the user moved"}

    username = ma.fields.String(allow_none=True, validate=validate.Length(min=1, max=50))
    timezone = ma.fields.String(allow_none=True, validate=_zone, metadata={"description": "IANA zone; null: default"})
    reminder_preferences = ma.fields.Enum(ReminderPreference, by_value=True, allow_none=True)
    organization_id = FlexibleInteger(allow_none=True)
    reason = REASON

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if set(data) == {"reason"}:
            raise ma.ValidationError("Send at least one field to change.", "username")


class ReasonSchema(StrictSchema):
    EXAMPLE = {"reason": "Chargeback fraud reported by the bank"}

    reason = REASON


class RoleChangeSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    role = ma.fields.String(required=True, metadata={"enum": [r.value for r in AppRole]})
    granted = ma.fields.Boolean(required=True)
    takes_effect = ma.fields.String(required=True, metadata={"description": "When the API acts on the change"})


class ErasureSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["deleted"]})
    deleted_at = ma.fields.DateTime(required=True)


# --- money ------------------------------------------------------------------------------------------------------

class AdjustmentSchema(StrictSchema):
    EXAMPLE = {"amount_cents": -1500, "reason": "Duplicate top-up reversed (ticket 4412)"}

    amount_cents = ma.fields.Integer(strict=True, required=True, validate=[
        validate.Range(min=-MAX_ADJUSTMENT_CENTS, max=MAX_ADJUSTMENT_CENTS),
        validate.NoneOf([0], error="Must not be zero.")],
        metadata={"description": "Signed minor units: added to (or, negative, taken from) the balance"})
    reason = REASON


class PayoutQueryArgsSchema(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf(["requested", "paid", "failed"]))
    user_id = ma.fields.Integer(validate=ID)
    cursor = cursor_field()
    limit = limit_field()


class PayoutDecisionSchema(StrictSchema):
    EXAMPLE = {"status": "paid", "reason": "Bank transfer 2026-11-28 sent"}

    status = ma.fields.String(required=True, validate=validate.OneOf(["paid", "failed"]),
                              metadata={"description": "failed: the money goes back to the wallet"})
    reason = REASON


class PlatformAccountsSchema(ma.Schema):
    fees_cents = ma.fields.Integer(required=True, metadata={"description": "The platform's fees, net of reversals"})
    escrow_cents = ma.fields.Integer(required=True, metadata={"description": "Orders paid and not yet completed"})
    currency = ma.fields.String(required=True)
    fees_account_id = ma.fields.Integer(required=True, allow_none=True)
    escrow_account_id = ma.fields.Integer(required=True, allow_none=True)


# --- orders -----------------------------------------------------------------------------------------------------

class RefundCreateSchema(StrictSchema):
    EXAMPLE = {"reason": "Parcel lost by the carrier", "cover_shortfall": True}

    reason = REASON
    cover_shortfall = ma.fields.Boolean(load_default=False, metadata={
        "description": "If a seller already withdrew their part, the platform account pays the difference"})


class ResolutionCreateSchema(StrictSchema):
    EXAMPLE = {"resolution": "delivered", "reason": "Carrier confirmed the delivery with a signature"}

    resolution = ma.fields.String(required=True, validate=validate.OneOf(["refund", "delivered"]),
                                  metadata={"description": "refund the buyer, or close the order as delivered"})
    reason = REASON
    cover_shortfall = ma.fields.Boolean(load_default=False)


class SellerReversalSchema(ma.Schema):
    seller_id = ma.fields.Integer(required=True)
    reversed_cents = ma.fields.Integer(required=True, metadata={"description": "Taken back from their wallet"})
    shortfall_cents = ma.fields.Integer(required=True, metadata={"description": "Paid by the platform instead"})


class RefundDetailSchema(ma.Schema):
    refunded_cents = ma.fields.Integer(required=True, metadata={"description": "Back in the buyer's wallet"})
    fee_reversed_cents = ma.fields.Integer(required=True, metadata={"description": "Taken back by the platform"})
    shortfall_covered_cents = ma.fields.Integer(required=True, metadata={"description": "Paid by the platform"})
    sellers = ma.fields.List(ma.fields.Nested(SellerReversalSchema), required=True)


class RefundSchema(RefundDetailSchema):
    order = ma.fields.Nested(OrderSchema, required=True)


class ResolutionSchema(ma.Schema):
    order = ma.fields.Nested(OrderSchema, required=True)
    refund = ma.fields.Nested(RefundDetailSchema, required=True, allow_none=True,
                              metadata={"description": "null when closed as delivered"})


# --- the audit log ----------------------------------------------------------------------------------------------

class AuditQueryArgsSchema(ma.Schema):
    actor_id = ma.fields.Integer(validate=ID, metadata={"description": "The acting admin"})
    target_type = ma.fields.String(validate=validate.OneOf(["user", "order", "payout"]))
    target_id = ma.fields.Integer(validate=ID)
    action = ma.fields.String(validate=validate.Regexp(r"^[a-z_]{1,30}\.[a-z_]{1,29}$"),
                              metadata={"description": "e.g. orders.refund"})
    since = ma.fields.AwareDateTime(metadata={"description": "From this time (inclusive)"})
    until = ma.fields.AwareDateTime(metadata={"description": "Before this time"})
    cursor = cursor_field()
    limit = limit_field()


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    actor_id = ma.fields.Integer(required=True)
    action = ma.fields.String(required=True)
    target_type = ma.fields.String(required=True)
    target_id = ma.fields.Integer(required=True)
    before = ma.fields.Dict(required=True, allow_none=True)
    after = ma.fields.Dict(required=True, allow_none=True)
    reason = ma.fields.String(required=True, allow_none=True)
    request_id = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)


# --- the caller's own data --------------------------------------------------------------------------------------

class CommentExportSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    event_id = ma.fields.Integer(required=True)
    comment = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class PaymentExportSchema(ma.Schema):
    provider_event_id = ma.fields.String(required=True)
    amount_cents = ma.fields.Integer(required=True, allow_none=True)
    currency = ma.fields.String(required=True, allow_none=True)
    received_at = ma.fields.DateTime(required=True)


class ExportSchema(ma.Schema):
    exported_at = ma.fields.DateTime(required=True)
    profile = ma.fields.Nested(UserSchema, required=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
    groups = ma.fields.List(ma.fields.Nested(GroupSchema), required=True)
    events = RenderedList(ma.fields.Nested(EventSchema), required=True)  # rendered by events.list_events
    comments = ma.fields.List(ma.fields.Nested(CommentExportSchema), required=True)
    orders = ma.fields.List(ma.fields.Nested(OrderSchema), required=True)
    ledger = ma.fields.List(ma.fields.Nested(LedgerEntrySchema), required=True)
    payouts = ma.fields.List(ma.fields.Nested(PayoutSchema), required=True)
    payments = ma.fields.List(ma.fields.Nested(PaymentExportSchema), required=True)
