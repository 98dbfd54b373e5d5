from zoneinfo import available_timezones

import marshmallow as ma
from marshmallow import validate

from torium_api.fields import FlexibleInteger, FullMatch, StrictSchema
from torium_api.users.models import ReminderPreference

E164 = FullMatch(r"^\+[1-9][0-9]{6,14}$", error="Must be a phone number in E.164 form, e.g. +48123456789.")
# IANA names (as the spec's enum lists them). Not "localtime": that is this host's /etc/localtime, another zone
# (or none) on the next host, so a stored "localtime" would change meaning or break every read of the user.
ZONES = sorted(available_timezones() - {"localtime"})


class UserSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True, attribute="id")
    username = ma.fields.String(required=True, allow_none=True)
    email = ma.fields.String(required=True)
    mobile_number = ma.fields.String(required=True, allow_none=True)
    reminder_preferences = ma.fields.Enum(ReminderPreference, by_value=True, required=True, allow_none=True)
    cognito_user_id = ma.fields.String(required=True, attribute="cognito_sub")
    device_token = ma.fields.String(required=True, allow_none=True)
    organization_id = ma.fields.Integer(required=True, allow_none=True)
    timezone = ma.fields.String(required=True, allow_none=True, metadata={"description": "IANA zone; null: default"})
    organization_name = ma.fields.Function(
        lambda user: user.organization.name if user.organization else None,
        required=True, allow_none=True, metadata={"type": "string", "nullable": True},
    )


class PreferencesUpdateSchema(StrictSchema):
    EXAMPLE = {"reminder_preferences": "PUSH", "timezone": "Europe/Warsaw"}

    reminder_preferences = ma.fields.Enum(ReminderPreference, by_value=True)
    timezone = ma.fields.String(validate=validate.OneOf(ZONES, error="Must be an IANA time zone name, e.g. "
                                                                     "Europe/Warsaw."),
                                metadata={"description": "IANA zone for event times"})

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Send reminder_preferences, timezone or both.", "reminder_preferences")


class MobileCreateSchema(StrictSchema):
    EXAMPLE = {"mobile_number": "+48500100200"}

    mobile_number = ma.fields.String(required=True, validate=E164)


class MobileConfirmSchema(StrictSchema):
    EXAMPLE = {"code": "042917"}

    code = ma.fields.String(required=True, validate=FullMatch(r"^[0-9]{6}$", error="Must be 6 digits."))


class OrganizationUpdateSchema(StrictSchema):
    EXAMPLE = {"organization_id": 3}

    organization_id = FlexibleInteger(required=True, allow_none=True,
                                      metadata={"description": "An id (the app sends it as a string); null clears"})


class DeviceUpdateSchema(StrictSchema):
    EXAMPLE = {"device_token": "fcm:dG9yaXVtLWRldmljZS10b2tlbg"}

    device_token = ma.fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=1024))


class EmailLookupHeadersSchema(ma.Schema):
    email = ma.fields.Email(required=True, data_key="trm-email", validate=validate.Length(max=254))


class UserIdSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True)
