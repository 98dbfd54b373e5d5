from datetime import date

import marshmallow as ma
from marshmallow import validate

from torium_api.fields import MAX_ID, FullMatch, StrictSchema
from torium_api.orders.models import MAX_LINES, MAX_QUANTITY, OrderStatus
from torium_api.paging import cursor_field, limit_field


class LineCreateSchema(StrictSchema):
    product_id = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_ID))
    quantity = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_QUANTITY))


class AddressSchema(StrictSchema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    line1 = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = ma.fields.String(validate=validate.Length(max=200))
    city = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    postal_code = ma.fields.String(required=True, validate=FullMatch(r"^[A-Za-z0-9 -]{2,12}$"))
    country = ma.fields.String(required=True, validate=FullMatch(r"^[A-Z]{2}$", error="ISO 3166 code, e.g. PL"))


class OrderCreateSchema(StrictSchema):
    EXAMPLE = {"lines": [{"product_id": 7, "quantity": 2}],
               "shipping_address": {"name": "Ada Nowak", "line1": "ul. Prosta 1", "city": "Warszawa",
                                    "postal_code": "00-850", "country": "PL"}}

    lines = ma.fields.List(ma.fields.Nested(LineCreateSchema), required=True,
                           validate=validate.Length(min=1, max=MAX_LINES))
    shipping_address = ma.fields.Nested(AddressSchema, required=True)


class LineSchema(ma.Schema):
    product_id = ma.fields.Integer(required=True)
    product_name = ma.fields.String(required=True)
    unit_price_cents = ma.fields.Integer(required=True)
    quantity = ma.fields.Integer(required=True)
    line_total_cents = ma.fields.Function(lambda line: line.unit_price_cents * line.quantity, required=True,
                                          metadata={"type": "integer"})


class OrderSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    status = ma.fields.Enum(OrderStatus, by_value=True, required=True)
    total_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    lines = ma.fields.List(ma.fields.Nested(LineSchema), required=True)
    shipping_address = ma.fields.Dict(required=True)
    failure_reason = ma.fields.String(required=True, allow_none=True,
                                      metadata={"enum": ["out_of_stock", "product_unavailable", "insufficient_funds",
                                                         "fulfilment_timeout", "processing_error"]})
    failure_detail = ma.fields.Dict(required=True, allow_none=True)
    tracking_number = ma.fields.Function(lambda o: o.shipment.tracking_number if o.shipment else None,
                                         required=True, allow_none=True, metadata={"type": "string"})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    completed_at = ma.fields.DateTime(required=True, allow_none=True)
    refunded_at = ma.fields.DateTime(required=True, allow_none=True)


class OrderQueryArgsSchema(ma.Schema):
    status = ma.fields.Enum(OrderStatus, by_value=True)
    cursor = cursor_field()
    limit = limit_field()


class AdminOrderQueryArgsSchema(OrderQueryArgsSchema):
    user_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


# --- a seller's sales ------------------------------------------------------------------------------------------

class SaleLineSchema(LineSchema):
    fee_cents = ma.fields.Integer(required=True, metadata={"description": "The platform's share of the line"})
    net_cents = ma.fields.Integer(required=True, metadata={"description": "What the seller is paid for the line"})


class SaleSchema(ma.Schema):
    order_id = ma.fields.Integer(required=True)
    status = ma.fields.Enum(OrderStatus, by_value=True, required=True)
    created_at = ma.fields.DateTime(required=True)
    completed_at = ma.fields.DateTime(required=True, allow_none=True)
    settled_at = ma.fields.DateTime(required=True, allow_none=True, metadata={"description": "When it was paid"})
    refunded_at = ma.fields.DateTime(required=True, allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(SaleLineSchema), required=True, metadata={"description": "Yours only"})
    gross_cents = ma.fields.Integer(required=True)
    fee_cents = ma.fields.Integer(required=True)
    net_cents = ma.fields.Integer(required=True)


class SaleQueryArgsSchema(ma.Schema):
    status = ma.fields.Enum(OrderStatus, by_value=True)
    cursor = cursor_field()
    limit = limit_field()


DATES = validate.Range(min=date(2000, 1, 1), max=date(2100, 1, 1))


class SalesTotalsQueryArgsSchema(ma.Schema):
    period = ma.fields.String(load_default="day", validate=validate.OneOf(["day", "month"]))
    since = ma.fields.Date(validate=DATES, metadata={"description": "First day (the seller's zone); default: "
                                                                    "30 days or 12 months back"})
    until = ma.fields.Date(validate=DATES, metadata={"description": "Day after the last; default: tomorrow"})


class SalesTotalSchema(ma.Schema):
    period = ma.fields.String(required=True, metadata={"description": "YYYY-MM-DD or YYYY-MM"})
    orders = ma.fields.Integer(required=True)
    items = ma.fields.Integer(required=True)
    gross_cents = ma.fields.Integer(required=True)
    fee_cents = ma.fields.Integer(required=True)
    net_cents = ma.fields.Integer(required=True, metadata={"description": "Paid to the seller"})
    refunded_net_cents = ma.fields.Integer(required=True, metadata={"description": "Of it, taken back by refunds"})
