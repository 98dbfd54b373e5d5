"""Users: provisioning from tokens, the profile, phone verification and devices."""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app
from sqlalchemy import bindparam, func
from sqlalchemy.dialects.postgresql import insert

from torium_api import aws, clock, queues
from torium_api.actor import Actor
from torium_api.database import locked
from torium_api.errors import DomainError, Invalid, NotFound, ServiceUnavailable, TooManyRequests
from torium_api.extensions import db
from torium_api.organizations import services as organizations
from torium_api.outbox import emit
from torium_api.users.models import MobileVerification, ReminderPreference, User

log = logging.getLogger(__name__)


class WrongCode(DomainError):
    """A failed attempt is still counted: the transaction commits before the error is raised."""

    status_code = 422
    message = "Wrong or expired confirmation code"
    commit_anyway = True


# --- provisioning -------------------------------------------------------------------------

# Runs on every authenticated request: built once, so SQLAlchemy neither rebuilds it nor recomputes its cache key.
_USER_BY_SUB = db.select(User).where(User.cognito_sub == bindparam("sub"))


def find_user_by_sub(sub: str) -> User | None:
    return db.session.scalar(_USER_BY_SUB, {"sub": sub})


def create_user_from_token(claims: dict, token: str) -> None:
    """Insert the token's user unless a concurrent request already did (ON CONFLICT DO NOTHING)."""
    email = claims.get("email") or _email_from_cognito(token)
    statement = insert(User).values(cognito_sub=claims["sub"], email=email)
    db.session.execute(statement.on_conflict_do_nothing(index_elements=[User.cognito_sub]))
    log.info("user provisioned")


def _email_from_cognito(access_token: str) -> str:
    """Cognito access tokens carry no e-mail: ask Cognito once, with the caller's own token."""
    try:
        attributes = aws.client("cognito-idp").get_user(AccessToken=access_token)["UserAttributes"]
    except (BotoCoreError, ClientError) as exc:
        log.error("cannot read the new user's e-mail from Cognito: %s", type(exc).__name__)
        raise ServiceUnavailable("Could not complete sign-in, try again") from None
    email = next((a["Value"] for a in attributes if a["Name"] == "email"), None)
    if not email:
        raise ServiceUnavailable("Could not complete sign-in, try again")
    return email


# --- profile ------------------------------------------------------------------------------

def update_preferences(actor: Actor, reminder_preferences: ReminderPreference | None = None,
                       timezone: str | None = None) -> User:
    user = actor.user
    if reminder_preferences is ReminderPreference.SMS and not user.mobile_number:
        raise Invalid("Verify a mobile number before choosing SMS",
                      errors={"reminder_preferences": ["SMS needs a verified mobile number."]})
    if reminder_preferences is not None:
        user.reminder_preferences = reminder_preferences
    if timezone is not None:
        user.timezone = timezone
    return user


def zone_of(user: User) -> ZoneInfo:
    """The zone a user's naive times are read and written in."""
    return ZoneInfo(user.timezone or current_app.config["DEFAULT_TIMEZONE"])


def set_organization(actor: Actor, organization_id: int | None) -> User:
    if organization_id is not None and organizations.find_organization(organization_id) is None:
        raise Invalid("Unknown organization", errors={"organization_id": ["Unknown organization."]})
    actor.user.organization_id = organization_id
    return actor.user


def set_device_token(actor: Actor, device_token: str | None) -> User:
    """Store the FCM token; the worker turns it into an SNS platform endpoint (no AWS call here)."""
    user = actor.user
    if device_token == user.device_token:
        return user
    user.device_token = device_token
    if device_token is None:
        user.device_arn = None
    else:
        emit("users.device_registered", {"user_id": user.id, "device_token": device_token},
             queue=queues.NOTIFICATIONS)
    return user


def get_user_id_by_email(email: str) -> int:
    user_id = db.session.scalar(
        db.select(User.id).where(func.lower(User.email) == email.strip().lower()).order_by(User.id.desc()).limit(1)
    )
    if user_id is None:
        raise NotFound("Wrong email!")
    return user_id


def find_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def set_device_endpoint(user: User, endpoint_arn: str) -> User:
    user.device_arn = endpoint_arn
    return user


def get_user(user_id: int) -> User:
    user = find_user(user_id)
    if user is None:
        raise NotFound("User not found")
    return user


# --- phone verification -------------------------------------------------------------------

def _hash_code(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def request_mobile_verification(actor: Actor, mobile_number: str) -> MobileVerification:
    config = current_app.config
    db.session.execute(db.select(User.id).where(User.id == actor.id).with_for_update())  # serialise per user
    recent = db.session.scalar(db.select(func.count(MobileVerification.id)).where(
        MobileVerification.user_id == actor.id, MobileVerification.created_at > clock.now() - timedelta(hours=1)))
    if recent >= config["MOBILE_CODES_PER_HOUR"]:
        raise TooManyRequests("Too many verification codes requested; try again later",
                              headers={"Retry-After": "3600"})
    _close_open_verifications(actor)
    code, salt = f"{secrets.randbelow(10**6):06d}", secrets.token_hex(16)
    verification = MobileVerification(
        user_id=actor.id, mobile_number=mobile_number, code_salt=salt, code_hash=_hash_code(salt, code),
        expires_at=clock.now() + timedelta(seconds=config["MOBILE_CODE_TTL_SECONDS"]),
    )
    db.session.add(verification)
    emit("users.mobile_verification_requested",
         {"user_id": actor.id, "mobile_number": mobile_number, "message": f"Your Torium verification code is: {code}"},
         queue=queues.NOTIFICATIONS)
    return verification


def _close_open_verifications(actor: Actor) -> None:
    db.session.execute(db.update(MobileVerification).where(
        MobileVerification.user_id == actor.id, MobileVerification.closed_at.is_(None)).values(closed_at=clock.now()))


def confirm_mobile(actor: Actor, code: str) -> User:
    max_attempts = current_app.config["MOBILE_CODE_MAX_ATTEMPTS"]
    verification = db.session.scalar(
        locked(db.select(MobileVerification).where(MobileVerification.user_id == actor.id,
                                                   MobileVerification.closed_at.is_(None))
               .order_by(MobileVerification.id.desc()).limit(1)))
    if verification is None or not verification.is_open(clock.now(), max_attempts):
        raise WrongCode()
    verification.attempts += 1
    if not hmac.compare_digest(verification.code_hash, _hash_code(verification.code_salt, code)):
        if verification.attempts >= max_attempts:
            verification.closed_at = clock.now()
        raise WrongCode()
    verification.closed_at = verification.confirmed_at = clock.now()
    actor.user.mobile_number = verification.mobile_number
    actor.user.reminder_preferences = ReminderPreference.SMS
    return actor.user
