from flask import current_app
from flask.views import MethodView

from torium_api.auth import current_actor
from torium_api.database import transaction
from torium_api.extensions import limiter
from torium_api.users import back_office, blp, services
from torium_api.users.schemas import (
    DeviceUpdateSchema,
    EmailLookupHeadersSchema,
    MobileConfirmSchema,
    MobileCreateSchema,
    OrganizationUpdateSchema,
    PreferencesUpdateSchema,
    UserIdSchema,
    UserSchema,
)


def load_user(claims: dict, token: str):
    """auth.py calls this with a verified token: the user row, created on first sight, its e-mail kept to the
    verified one (its own small transaction, before the view's)."""
    user = services.find_user_by_sub(claims["sub"])
    if user is None:
        with transaction():
            services.create_user_from_token(claims, token)
        user = services.find_user_by_sub(claims["sub"])
    elif user.deleted_at is None and services.identity_is_stale(user, claims):  # an erased user stays erased
        with transaction():
            services.refresh_identity(user, claims, token)
    return user


def effective_roles(user, claims: dict):
    """auth.py calls this for the Actor's roles: the token's, minus those revoked since it was issued; roles the
    API had never seen for this user are noted (their own small transaction)."""
    roles, unseen = back_office.effective_roles(user, claims)
    if unseen:
        with transaction():
            back_office.note_roles(user.id, unseen)
    return roles


@blp.route("/users")
class Profile(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """The caller's profile (contract route 22)"""
        return current_actor().user


@blp.route("/users/preferences")
class Preferences(MethodView):
    @blp.arguments(PreferencesUpdateSchema)
    @blp.response(200)
    def patch(self, data):
        """Choose how reminders reach the caller (SMS needs a verified number) and/or the caller's time zone"""
        with transaction():
            services.update_preferences(current_actor(), **data)


@blp.route("/users/mobile")
class Mobile(MethodView):
    @blp.doc(operationId="requestMobileVerification")
    @blp.arguments(MobileCreateSchema)
    @blp.response(200)
    @blp.alt_response(429, description="Too many codes requested")
    def post(self, data):
        """Send a 6-digit verification code by SMS to a new number"""
        with transaction():
            services.request_mobile_verification(current_actor(), **data)

    @blp.doc(operationId="confirmMobile")
    @blp.arguments(MobileConfirmSchema)
    @blp.response(200)
    def patch(self, data):
        """Confirm the number with the code; it becomes the caller's number and SMS their preference"""
        with transaction():
            services.confirm_mobile(current_actor(), **data)


@blp.route("/users/organization")
class UserOrganization(MethodView):
    @blp.arguments(OrganizationUpdateSchema)
    @blp.response(200)
    def patch(self, data):
        """Set (or with null, clear) the caller's organization"""
        with transaction():
            services.set_organization(current_actor(), **data)


@blp.route("/users/device")
class Device(MethodView):
    @blp.arguments(DeviceUpdateSchema)
    @blp.response(200)
    def patch(self, data):
        """Register the caller's FCM device token for push notifications"""
        with transaction():
            services.set_device_token(current_actor(), **data)


@blp.route("/users/email")
class UserByEmail(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["RATELIMIT_EMAIL_LOOKUP"])]

    @blp.arguments(EmailLookupHeadersSchema, location="headers")
    @blp.response(200, UserIdSchema)
    @blp.alt_response(404, description="No user with that e-mail")
    @blp.alt_response(429, description="Too many look-ups")
    def get(self, headers):
        """Find a user's id by exact e-mail (header trm-email), to invite them; rate-limited"""
        return {"user_id": services.get_user_id_by_email(headers["email"])}

