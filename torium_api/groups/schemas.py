import marshmallow as ma
from marshmallow import validate

from torium_api.fields import FlexibleInteger, StrictSchema
from torium_api.groups.models import Role

NAME = validate.Length(min=1, max=50)
DESCRIPTION = validate.Length(max=200)


class GroupHeadersSchema(ma.Schema):
    group_id = FlexibleInteger(required=True, data_key="trm-group-id")


class TargetHeadersSchema(GroupHeadersSchema):
    user_id = FlexibleInteger(required=True, data_key="trm-user-id",
                              metadata={"description": "The member to invite or remove (not the caller)"})


class GroupCreateSchema(StrictSchema):
    EXAMPLE = {"name": "Tuesday chess", "description": "Club nights at the library"}

    name = ma.fields.String(required=True, validate=NAME)
    description = ma.fields.String(required=True, validate=DESCRIPTION)


class GroupUpdateSchema(GroupCreateSchema):
    EXAMPLE = {"id": 12, "name": "Tuesday chess", "description": "Now on Wednesdays too"}

    id = FlexibleInteger(required=True, data_key="id")
    admin_id = FlexibleInteger(metadata={"description": "Legacy: the caller's id, if sent"})


class GroupDeleteSchema(StrictSchema):
    EXAMPLE = {"id": 12}

    id = FlexibleInteger(required=True)


class GroupCreatedSchema(ma.Schema):
    group_id = ma.fields.Integer(required=True)


class GroupSchema(ma.Schema):
    RENDERED_BY_SERVICE = True  # the list service returns dicts of exactly these fields (web.envelope_schema)

    group_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    admin_id = ma.fields.Integer(required=True, allow_none=True)
    status = ma.fields.String(required=True, metadata={"description": "The caller's role in the group"})
    description = ma.fields.String(required=True)


class InvitationSchema(ma.Schema):
    group_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, metadata={"description": "The group's name"})
    email = ma.fields.String(required=True, metadata={"description": "Who invited the caller"})


class InvitationCountSchema(ma.Schema):
    count = ma.fields.Integer(required=True)


class MemberSchema(ma.Schema):
    RENDERED_BY_SERVICE = True  # the list service returns dicts of exactly these fields (web.envelope_schema)

    user_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True, allow_none=True)
    email = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": [role.value for role in Role]})


class AnswerSchema(StrictSchema):
    EXAMPLE = {"status": "confirmed"}

    status = ma.fields.String(required=True, validate=validate.OneOf(["confirmed", "rejected"]))


class RoleUpdateSchema(StrictSchema):
    EXAMPLE = {"status": "moderator", "user_id": 34}

    status = ma.fields.Enum(Role, by_value=True, required=True)
    user_id = FlexibleInteger(required=True, metadata={"description": "The member whose role changes"})
