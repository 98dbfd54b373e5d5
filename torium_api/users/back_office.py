"""Users as the back office sees them: search, profile fields, disable and enable, shop roles, erasure.

The API refuses at once (a disabled or erased user's tokens, a revoked role's older tokens: see ``auth.py`` and
``effective_roles``); Cognito is told through the outbox and the workers (``handlers.py``, ``cognito.py``).
An admin cannot disable, erase or revoke the admin role of themselves: nobody would be left to undo it.
"""

from flask import current_app
from sqlalchemy import exists, or_
from sqlalchemy.dialects.postgresql import insert

from torium_api import clock, queues
from torium_api.actor import Actor, AppRole
from torium_api.database import locked
from torium_api.errors import Conflict, Invalid, NotFound
from torium_api.extensions import db
from torium_api.organizations import services as organizations
from torium_api.outbox import emit
from torium_api.paging import CursorPage, keyset_page
from torium_api.users.models import MobileVerification, ReminderPreference, RoleGrant, User
from torium_api.users.services import get_user

GRANTED_WHEN = ("in the user's next token: Cognito adds the group in the background, and the role reaches the API when "
              "the user signs in again or their app refreshes its token (at the latest when the current one expires)")
REVOKED_WHEN = ("at once: the API drops the role from every token issued before Cognito removed the group (Cognito is "
           "told in the background)")


def account_of(actor: Actor, user_id: int) -> User:
    """A user as the back office reads them (admins only)."""
    actor.require_admin("read another user's account")
    return get_user(user_id)


def lock_user(user_id: int) -> User:
    user = db.session.scalar(locked(db.select(User).where(User.id == user_id), of=User))
    if user is None:
        raise NotFound("User not found")
    return user


def roles_of(user_ids: list[int]) -> dict[int, list[str]]:
    """The roles the API knows each user has (granted by an admin, or seen in their token): one query."""
    rows = db.session.execute(db.select(RoleGrant.user_id, RoleGrant.role).where(
        RoleGrant.user_id.in_(user_ids), RoleGrant.revoked_at.is_(None)).order_by(RoleGrant.role))
    found: dict[int, list[str]] = {user_id: [] for user_id in user_ids}
    for user_id, role in rows:
        found[user_id].append(role.value)
    return found


def state_of(user: User) -> dict:
    """What the audit log records of a user before and after an action (no e-mail, phone or device)."""
    return {"status": user.status, "username": user.username, "timezone": user.timezone,
            "organization_id": user.organization_id, "roles": roles_of([user.id])[user.id],
            "reminder_preferences": user.reminder_preferences.value if user.reminder_preferences else None}


_STATUS = {"active": (User.disabled_at.is_(None) & User.deleted_at.is_(None)),
           "disabled": (User.disabled_at.is_not(None) & User.deleted_at.is_(None)),
           "deleted": User.deleted_at.is_not(None)}


def search_users(actor: Actor, q: str | None = None, status: str | None = None, role: AppRole | None = None,
                 cursor: str | None = None, limit: int = 20) -> CursorPage:
    """Admins: users by id, optionally whose e-mail or username contains ``q``, in a status, with a role."""
    actor.require_admin("list users")
    query = db.select(User)
    if q:
        query = query.where(or_(User.email.icontains(q, autoescape=True), User.username.icontains(q, autoescape=True)))
    if status:
        query = query.where(_STATUS[status])
    if role:
        query = query.where(exists().where(RoleGrant.user_id == User.id, RoleGrant.role == role,
                                           RoleGrant.revoked_at.is_(None)))
    page = keyset_page(query, "users", cursor, limit, id_column=User.id, ascending=True)
    roles = roles_of([user.id for user in page.items])
    return CursorPage([{"user": user, "roles": roles[user.id]} for user in page.items], page.next_cursor)


def _alive(user: User) -> User:
    if user.deleted_at is not None:
        raise Conflict("This account was deleted")
    return user


def update_profile(actor: Actor, user_id: int, **fields) -> User:
    """Admins: change profile fields (username, time zone, reminder channel, organization)."""
    actor.require_admin("change other users' profiles")
    user = _alive(lock_user(user_id))
    organization_id = fields.get("organization_id")
    if organization_id is not None and organizations.find_organization(organization_id) is None:
        raise Invalid("Unknown organization", errors={"organization_id": ["Unknown organization."]})
    if fields.get("reminder_preferences") is ReminderPreference.SMS and not user.mobile_number:
        raise Invalid("SMS needs a verified mobile number",
                      errors={"reminder_preferences": ["The user has no verified mobile number."]})
    for name, value in fields.items():
        setattr(user, name, value)
    return user


def set_disabled(actor: Actor, user_id: int, disabled: bool) -> User:
    """Admins: refuse (or again accept) a user's tokens at once; Cognito disables (enables) them in the background,
    which also ends their sessions."""
    actor.require_admin("disable or enable users")
    user = _alive(lock_user(user_id))
    if disabled and user.id == actor.id:
        raise Conflict("You cannot disable yourself")
    if (user.disabled_at is not None) != disabled:
        user.disabled_at = clock.now() if disabled else None
        emit("users.access_changed", {"user_id": user.id}, queue=queues.DOMAIN_EVENTS)
    return user


def _grant_row(user_id: int, role: AppRole) -> RoleGrant:
    db.session.execute(insert(RoleGrant).values(user_id=user_id, role=role, revoked_at=clock.now())
                       .on_conflict_do_nothing(index_elements=[RoleGrant.user_id, RoleGrant.role]))
    return db.session.scalar(locked(db.select(RoleGrant).where(RoleGrant.user_id == user_id,
                                                               RoleGrant.role == role)))


def change_role(actor: Actor, user_id: int, role: AppRole, granted: bool) -> dict:
    """Admins: grant or revoke a shop role. Cognito's group follows through the outbox."""
    actor.require_admin("grant or revoke roles")
    user = _alive(lock_user(user_id))
    if not granted and role is AppRole.ADMIN and user.id == actor.id:
        raise Conflict("You cannot revoke your own admin role")
    grant = _grant_row(user.id, role)
    if grant.granted != granted or grant.cognito_synced_at is None:
        grant.revoked_at = None if granted else clock.now()
        grant.cognito_synced_at, grant.updated_at = None, clock.now()
        emit("users.role_changed", {"user_id": user.id, "role": role.value}, queue=queues.DOMAIN_EVENTS)
    return {"user_id": user.id, "role": role.value, "granted": granted, "takes_effect": GRANTED_WHEN if granted else
            REVOKED_WHEN}


# --- the request path (auth) ------------------------------------------------------------------------------------

def effective_roles(user: User, claims: dict) -> tuple[frozenset[AppRole], frozenset[AppRole]]:
    """The token's roles minus those revoked since it was issued, and the roles it carries that the API has no
    record of yet (to note). A revoked role stays dropped from tokens issued up to Cognito's removal of the group
    (plus the verifier's leeway, for the two clocks); while that removal is pending, from every token."""
    roles = AppRole.from_claims(claims.get("cognito:groups"))
    if not roles:
        return roles, frozenset()
    rows = {row.role: row for row in db.session.scalars(db.select(RoleGrant).where(RoleGrant.user_id == user.id))}
    leeway, issued = current_app.config["AUTH_LEEWAY_SECONDS"], claims.get("iat", 0)
    revoked = {role for role, row in rows.items() if row.revoked_at is not None and (
        row.cognito_synced_at is None or issued <= row.cognito_synced_at.timestamp() + leeway)}
    return roles - revoked, roles - rows.keys()


def note_roles(user_id: int, roles) -> None:
    """Roles seen in a token that the API had no record of (given in Cognito directly, like the first admin)."""
    db.session.execute(insert(RoleGrant).values([{"user_id": user_id, "role": role,
                                                  "cognito_synced_at": clock.now()} for role in roles])
                       .on_conflict_do_nothing(index_elements=[RoleGrant.user_id, RoleGrant.role]))


# --- the workers (handlers.py) ------------------------------------------------------------------------------

def lock_role(user_id: int, role: AppRole) -> RoleGrant | None:
    return db.session.scalar(locked(db.select(RoleGrant).where(RoleGrant.user_id == user_id,
                                                               RoleGrant.role == role)))


def mark_synced(grant: RoleGrant) -> None:
    """Cognito's group now matches the row: tokens issued from now on tell the truth about this role."""
    grant.cognito_synced_at = clock.now()


# --- erasure ------------------------------------------------------------------------------------------------

def erase(user: User) -> None:
    """Personal data gone (e-mail, phone, device, time zone, username, organization, phone codes, roles); the row
    stays, anonymous, for the financial records that point at it, and so does the ``sub``, so the user's tokens
    stay refused (the first-sight logic would otherwise create a new user for it). Cognito deletes the user in the
    background."""
    username = user.cognito_name
    user.email, user.username, user.mobile_number, user.timezone = "", None, None, None
    user.device_token, user.device_arn, user.reminder_preferences, user.organization_id = None, None, None, None
    user.cognito_username, user.deleted_at = None, clock.now()
    db.session.execute(db.delete(MobileVerification).where(MobileVerification.user_id == user.id))
    db.session.execute(db.delete(RoleGrant).where(RoleGrant.user_id == user.id))
    emit("users.erased", {"user_id": user.id, "username": username}, queue=queues.DOMAIN_EVENTS)
