import marshmallow as ma

from torium_api.fields import cursor_field


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    channel = ma.fields.String(required=True, allow_none=True)
    recipient = ma.fields.String(required=True, allow_none=True)
    subject = ma.fields.String(required=True, allow_none=True)
    body = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["sent", "skipped", "failed"]})
    detail = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)


class DeliveryPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DeliverySchema), required=True)
    next_cursor = ma.fields.String(required=True, allow_none=True)


class DeliveryQueryArgsSchema(ma.Schema):
    cursor = cursor_field()
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))
