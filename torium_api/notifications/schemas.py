import marshmallow as ma


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    channel = ma.fields.String(required=True, allow_none=True)
    recipient = ma.fields.String(required=True, allow_none=True)
    subject = ma.fields.String(required=True, allow_none=True)
    body = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["sent", "skipped", "failed"]})
    detail = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)

