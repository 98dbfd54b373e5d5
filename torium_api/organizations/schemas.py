import marshmallow as ma


class OrganizationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    url = ma.fields.String(required=True)
    logo_link = ma.fields.String(required=True, allow_none=True, metadata={"description": "Presigned logo URL"})
