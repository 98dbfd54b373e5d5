import marshmallow as ma
from marshmallow import validate

from torium_api.fields import StrictSchema
from torium_api.paging import CursorPageArgsSchema

MAX_MOVEMENT_CENTS = 100_000_000  # 1,000,000.00 per deposit or withdrawal


class AmountSchema(StrictSchema):
    EXAMPLE = {"amount_cents": 2500}

    amount_cents = ma.fields.Integer(strict=True, required=True,
                                     validate=validate.Range(min=1, max=MAX_MOVEMENT_CENTS),
                                     metadata={"description": "A positive whole number of minor units"})


class AccountSchema(ma.Schema):
    balance_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)


class LedgerEntrySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    amount_cents = ma.fields.Integer(required=True, metadata={"description": "Signed: withdrawals are negative"})
    balance_after_cents = ma.fields.Integer(required=True)
    reference = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)


class MovementSchema(ma.Schema):
    entry = ma.fields.Nested(LedgerEntrySchema, required=True)
    account = ma.fields.Nested(AccountSchema, required=True)


class CustomerQueryArgsSchema(CursorPageArgsSchema):
    q = ma.fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Part of an e-mail"})


class CustomerSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    balance_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)


# --- payouts (sellers' earnings and any balance out to a bank) ------------------------------------------------

class PayoutSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    amount_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["requested", "paid", "failed"], "description": (
        "requested: the money left the wallet and awaits the bank transfer; paid; failed: it is back in the wallet")})
    note = ma.fields.String(required=True, allow_none=True, metadata={"description": "The admin's, once decided"})
    created_at = ma.fields.DateTime(required=True)
    decided_at = ma.fields.DateTime(required=True, allow_none=True)


class WithdrawalSchema(MovementSchema):
    payout = ma.fields.Nested(PayoutSchema, required=True)
