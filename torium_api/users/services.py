"""Users: provisioning from tokens, the profile, phone verification and devices."""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app
from sqlalchemy import bindparam, func
from sqlalchemy.dialects.postgresql import insert

from torium_api import aws, clock, queues, quotas
from torium_api.actor import Actor
from torium_api.database import locked
from torium_api.errors import DomainError, Invalid, NotFound, ServiceUnavailable
from torium_api.extensions import db
from torium_api.organizations import services as organizations
from torium_api.outbox import emit
from torium_api.users.models import MobileVerification, ReminderPreference, User

log = logging.getLogger(__name__)
MAX_EMAIL = 254
RETRY_SIGN_IN = {"Retry-After": "5"}


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


def cognito_username(claims: dict) -> str | None:
    """Cognito's Username for the token's user: ``username`` in access tokens, ``cognito:username`` in ID tokens."""
    name = claims.get("username", claims.get("cognito:username"))
    return name if isinstance(name, str) and 0 < len(name) <= 128 else None


def create_user_from_token(claims: dict, token: str) -> None:
    """Insert the token's user unless a concurrent request already did (ON CONFLICT DO NOTHING); the one that
    inserted asks the workers to write the new id into Cognito's ``custom:user_id`` (under the username)."""
    email = _verified_email(claims, token, required=True)
    if email:
        _release_email(email, keeper_sub=claims["sub"])
    username = cognito_username(claims)
    statement = insert(User).values(cognito_sub=claims["sub"], email=email or "", identity_checked_at=func.now(),
                                    cognito_username=username)
    user_id = db.session.scalar(statement.on_conflict_do_nothing(index_elements=[User.cognito_sub])
                                .returning(User.id))
    if user_id is not None:
        emit("users.first_seen", {"user_id": user_id, "username": username or claims["sub"]},
             queue=queues.DOMAIN_EVENTS)
        log.info("user provisioned")


def identity_is_stale(user: User, claims: dict) -> bool:
    """Does the stored e-mail need a look (cheap: no I/O)? Tokens that carry an e-mail are compared on every
    request; access tokens, which carry none, every IDENTITY_REFRESH_SECONDS."""
    if "email" in claims:
        return (_claimed_email(claims) or "") != user.email
    refresh = timedelta(seconds=current_app.config["IDENTITY_REFRESH_SECONDS"])
    return user.identity_checked_at is None or user.identity_checked_at < clock.now() - refresh


def refresh_identity(user: User, claims: dict, token: str) -> User:
    """Follow the verified e-mail behind the token (Cognito's when the token carries none). A Cognito outage
    keeps what is stored and looks again in five minutes; it never fails the request."""
    try:
        email = _verified_email(claims, token, required=False) or ""
    except ServiceUnavailable:
        retry_in = current_app.config["IDENTITY_REFRESH_SECONDS"] - 300
        user.identity_checked_at = clock.now() - timedelta(seconds=max(retry_in, 0))
        return user
    if email != user.email:
        if email:
            _release_email(email, keeper_sub=user.cognito_sub)
        log.info("user's verified e-mail changed", extra={"verified": bool(email)})
        user.email = email
    user.identity_checked_at = clock.now()
    return user


def _claimed_email(claims: dict) -> str | None:
    verified = claims.get("email_verified") in (True, "true")
    return claims["email"].strip() if verified and isinstance(claims.get("email"), str) else None


def _verified_email(claims: dict, token: str, *, required: bool) -> str | None:
    """Only a verified address is stored: anyone may type any address into a sign-up form. One longer than an
    address can be (254: RFC 5321; Cognito allows 2048) is not stored either, never a failed request."""
    email = _claimed_email(claims) if "email" in claims else _email_from_cognito(token, required=required)
    if email and len(email) > MAX_EMAIL:
        log.warning("verified e-mail longer than %d characters not stored", MAX_EMAIL)
        return None
    return email


def _release_email(email: str, keeper_sub: str) -> None:
    """An address verified by one account is no longer another's (Cognito moves a verified alias the same way):
    at most one user holds each address, so a look-up never has to choose between two."""
    db.session.execute(db.update(User).where(func.lower(User.email) == email.lower(), User.cognito_sub != keeper_sub)
                       .values(email=""))


def _email_from_cognito(access_token: str, *, required: bool) -> str | None:
    """Cognito access tokens carry no e-mail: ask Cognito, with the caller's own token."""
    try:
        attributes = aws.client("cognito-idp").get_user(AccessToken=access_token)["UserAttributes"]
    except (BotoCoreError, ClientError) as exc:
        log.error("cannot read the user's e-mail from Cognito: %s", type(exc).__name__)
        raise ServiceUnavailable("Could not complete sign-in, try again", headers=RETRY_SIGN_IN) from None
    values = {a["Name"]: a["Value"] for a in attributes}
    if values.get("email") and values.get("email_verified") == "true":
        return values["email"].strip()
    if required and not values.get("email"):
        raise ServiceUnavailable("Could not complete sign-in, try again", headers=RETRY_SIGN_IN)
    return None


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
    """The zone a user's naive times are read and written in. A stored zone this host's zone database lacks (an
    older tzdata) falls back to the default: a stored value must never make a read fail."""
    default = current_app.config["DEFAULT_TIMEZONE"]
    try:
        return ZoneInfo(user.timezone or default)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown stored time zone; using %s", default)
        return ZoneInfo(default)


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
    """The one user whose verified e-mail this is (a unique index: never a choice between two)."""
    wanted = email.strip().lower()
    user_id = db.session.scalar(db.select(User.id).where(func.lower(User.email) == wanted, User.email != ""))
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
    """Open a verification for ``mobile_number`` and ask the workers to text it a code.

    No code exists yet: the worker creates it, stores its hash and sends it in one transaction
    (``issue_verification_code``), so the code itself never passes through the outbox, SQS or a DLQ."""
    config = current_app.config
    db.session.execute(locked(db.select(User.id).where(User.id == actor.id)))  # serialise per user
    quotas.enforce("verification codes", MobileVerification.created_at, MobileVerification.user_id == actor.id,
                   limit=config["MOBILE_CODES_PER_HOUR"], window=timedelta(hours=1))
    quotas.enforce("verification codes to one number", MobileVerification.created_at,
                   MobileVerification.mobile_number == mobile_number,
                   limit=config["MOBILE_CODES_PER_NUMBER_PER_DAY"], window=timedelta(days=1))
    _close_open_verifications(actor)
    verification = MobileVerification(user_id=actor.id, mobile_number=mobile_number,
                                      expires_at=clock.now() + timedelta(seconds=config["MOBILE_CODE_TTL_SECONDS"]))
    db.session.add(verification)
    db.session.flush()
    emit("users.mobile_verification_requested", {"verification_id": verification.id}, queue=queues.NOTIFICATIONS)
    return verification


def issue_verification_code(verification_id: int) -> tuple[int, str, str] | None:
    """The worker's half: a fresh code for a verification still open, stored as a salted hash.

    Returns (user id, number, code) to text, or None when the verification was closed or superseded meanwhile.
    The caller sends the SMS in the same transaction: if sending fails, no hash is stored and the retry issues a
    new code."""
    verification = db.session.scalar(locked(db.select(MobileVerification)
                                            .where(MobileVerification.id == verification_id)))
    if verification is None or verification.closed_at is not None or verification.expires_at <= clock.now():
        return None
    code, salt = f"{secrets.randbelow(10**6):06d}", secrets.token_hex(16)
    verification.code_salt, verification.code_hash = salt, _hash_code(salt, code)
    return verification.user_id, verification.mobile_number, code


def _close_open_verifications(actor: Actor) -> None:
    db.session.execute(db.update(MobileVerification).where(
        MobileVerification.user_id == actor.id, MobileVerification.closed_at.is_(None)).values(closed_at=clock.now()))


def confirm_mobile(actor: Actor, code: str) -> User:
    max_attempts = current_app.config["MOBILE_CODE_MAX_ATTEMPTS"]
    verification = db.session.scalar(
        locked(db.select(MobileVerification).where(MobileVerification.user_id == actor.id,
                                                   MobileVerification.closed_at.is_(None))
               .order_by(MobileVerification.id.desc()).limit(1)))
    if verification is None or verification.code_hash is None or not verification.is_open(clock.now(), max_attempts):
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
