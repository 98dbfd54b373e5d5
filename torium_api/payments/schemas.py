import marshmallow as ma
from marshmallow import validate

from torium_api.fields import StrictSchema

MAX_PAYMENT_CENTS = 10**10  # 100,000,000.00: fits the ledger's BIGINT with room for every sum
EVENT_ID = validate.Regexp(r"^[A-Za-z0-9_.:-]{1,255}$", error="1-255 letters, digits or _.:-")


class PaymentDataSchema(StrictSchema):
    user_id = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "The wallet's owner: the user id the app gave the provider when the payment started"})
    amount_cents = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_PAYMENT_CENTS),
                                     metadata={"description": "Minor units received"})
    currency = ma.fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"), metadata={"description": "ISO 4217"})
    payment_id = ma.fields.String(validate=validate.Length(min=1, max=255),
                                  metadata={"description": "The provider's payment (kept in its own records)"})


class PaymentEventSchema(StrictSchema):
    EXAMPLE = {"id": "evt_1QxT7p", "type": "payment.succeeded", "created": 1795000000,
               "data": {"user_id": 34, "amount_cents": 5000, "currency": "PLN", "payment_id": "pay_9Ks2"}}

    id = ma.fields.String(required=True, validate=EVENT_ID, metadata={
        "description": "The provider's event id: the idempotency key (a redelivery changes nothing)"})
    type = ma.fields.String(required=True, validate=validate.Length(min=1, max=100),
                            metadata={"description": "payment.succeeded credits the wallet; others are kept"})
    created = ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=2**40),
                                metadata={"description": "Unix seconds, the provider's"})
    data = ma.fields.Nested(PaymentDataSchema, required=True)


class WebhookReceiptSchema(ma.Schema):
    event_id = ma.fields.String(required=True)
    credited = ma.fields.Boolean(required=True, metadata={"description": "A wallet was credited for this event"})
    duplicate = ma.fields.Boolean(required=True, metadata={"description": "Seen before: nothing changed now"})
