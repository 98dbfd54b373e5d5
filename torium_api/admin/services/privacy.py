"""A user leaves: erasure (by themselves, or by an admin), and the export of their data.

Erasure is refused while it would strand something: orders still in progress (wait, or cancel them), money in the
wallet (withdraw it first: it is theirs) or products still listed (delete them: buyers would order from nobody).
Otherwise, in one transaction: every group left (handed over or deleted, ``groups``), the orders' shipping addresses
forgotten (the orders stay: financial records), the profile's personal data gone and the user marked deleted
(``users``; their tokens are refused from now on), and through the outbox: Cognito deletes the user, the delivery
log is forgotten. Ledger, payouts and payments stay, pointing at the anonymous row.
"""

from torium_api import clock
from torium_api.accounts import services as accounts
from torium_api.actor import Actor
from torium_api.errors import Conflict
from torium_api.events import services as events
from torium_api.groups import services as groups
from torium_api.orders import services as orders
from torium_api.payments import services as payments
from torium_api.products import services as products
from torium_api.users import back_office as users

PAGE = 100


def erase(actor: Actor, user_id: int) -> dict:
    """Erase ``user_id`` (the actor themselves, or any user for an admin: the callers check who may)."""
    user = users.lock_user(user_id)
    if user.deleted_at is not None:
        raise Conflict("This account is already deleted")
    accounts.lock_accounts({user_id})  # no settlement credits the wallet between the check and the commit
    if orders.has_orders_in_progress(user_id):
        raise Conflict("Orders are still in progress: wait until they complete, or cancel them, then try again")
    if (balance := accounts.user_balance(user_id)) > 0:
        raise Conflict(f"The wallet still holds {balance}: withdraw it first (it is yours)")
    if products.list_products(actor, sort="newest", limit=1, seller_id=user_id).items:
        raise Conflict("Products are still listed: delete them first")
    groups.leave_all_groups(user_id)
    orders.forget_addresses(user_id)
    users.erase(user)
    return {"user_id": user.id, "status": user.status, "deleted_at": user.deleted_at}


def _all_pages(fetch) -> list:
    items, page = [], 1
    while True:
        rows, total = fetch(page, PAGE)
        items += rows
        if len(items) >= total or not rows:
            return items
        page += 1


def export(actor: Actor) -> dict:
    """Everything the platform holds about the caller, as JSON."""
    user_id = actor.id
    return {
        "exported_at": clock.now(), "profile": actor.user, "roles": sorted(role.value for role in actor.roles),
        "groups": _all_pages(lambda page, size: groups.list_groups(actor, page, size)),
        "events": _all_pages(lambda page, size: events.list_events(actor, None, page, size)[:2]),
        "comments": events.comments_by(user_id), "orders": orders.all_orders(user_id),
        "ledger": accounts.all_entries(user_id), "payouts": accounts.all_payouts(user_id),
        "payments": payments.payments_of(user_id),
    }
