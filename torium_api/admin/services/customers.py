"""The back office on users: list, read, change, disable and enable, roles, erase; a user's ledger and balance
corrections. Each action is the domain's service plus its audit entry, in the caller's one transaction."""

from flask import current_app

from torium_api import audit
from torium_api.accounts import services as accounts
from torium_api.actor import Actor, AppRole
from torium_api.admin.services.privacy import erase
from torium_api.orders import services as orders
from torium_api.paging import CursorPage
from torium_api.users import back_office as users
from torium_api.users.models import User


def _row(user: User, roles: list[str]) -> dict:
    return {"user_id": user.id, "email": user.email, "username": user.username, "status": user.status,
            "roles": roles, "created_at": user.created_at, "disabled_at": user.disabled_at,
            "deleted_at": user.deleted_at}


def list_users(actor: Actor, **filters) -> CursorPage:
    page = users.search_users(actor, **filters)
    return CursorPage([_row(item["user"], item["roles"]) for item in page.items], page.next_cursor)


def user_detail(actor: Actor, user_id: int) -> dict:
    user = users.account_of(actor, user_id)
    roles = users.roles_of([user.id])[user.id]
    return {**_row(user, roles), "mobile_number": user.mobile_number, "timezone": user.timezone,
            "reminder_preferences": user.reminder_preferences.value if user.reminder_preferences else None,
            "organization_id": user.organization_id, "cognito_user_id": user.cognito_sub,
            "balance_cents": accounts.user_balance(user.id), "currency": current_app.config["CURRENCY"],
            "order_counts": orders.count_by_status(user.id)}


def _audited(actor: Actor, action: str, user_id: int, reason: str, change) -> None:
    before = users.state_of(users.lock_user(user_id))
    change()
    audit.record(actor, action, "user", user_id, before=before, after=users.state_of(users.lock_user(user_id)),
                 reason=reason)


def update_user(actor: Actor, user_id: int, reason: str, **fields) -> dict:
    _audited(actor, "users.update", user_id, reason, lambda: users.update_profile(actor, user_id, **fields))
    return user_detail(actor, user_id)


def set_disabled(actor: Actor, user_id: int, disabled: bool, reason: str) -> dict:
    _audited(actor, "users.disable" if disabled else "users.enable", user_id, reason,
             lambda: users.set_disabled(actor, user_id, disabled))
    return user_detail(actor, user_id)


def change_role(actor: Actor, user_id: int, role: AppRole, granted: bool, reason: str) -> dict:
    result = {}
    _audited(actor, "users.grant_role" if granted else "users.revoke_role", user_id, reason,
             lambda: result.update(users.change_role(actor, user_id, role, granted)))
    return result


def erase_user(actor: Actor, user_id: int, reason: str) -> dict:
    result = {}
    _audited(actor, "users.erase", user_id, reason, lambda: result.update(erase(actor, user_id)))
    return result


def ledger(actor: Actor, user_id: int, **page) -> CursorPage:
    users.account_of(actor, user_id)
    return accounts.ledger_of(actor, user_id, **page)


def adjust_balance(actor: Actor, user_id: int, amount_cents: int, reason: str) -> dict:
    users.account_of(actor, user_id)
    balance = accounts.user_balance(user_id)
    movement = accounts.adjust(actor, user_id, amount_cents)
    audit.record(actor, "accounts.adjust", "user", user_id, before={"balance_cents": balance},
                 after={"balance_cents": movement["account"].balance_cents, "entry_id": movement["entry"].id,
                        "amount_cents": amount_cents}, reason=reason)
    return movement
