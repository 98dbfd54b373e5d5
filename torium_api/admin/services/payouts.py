"""The back office on money leaving: payouts to follow and decide, and the platform's own accounts."""

from torium_api import audit
from torium_api.accounts import services as accounts
from torium_api.accounts.models import PayoutStatus
from torium_api.actor import Actor


def _state(payout) -> dict:
    return {"status": payout.status.value, "amount_cents": payout.amount_cents, "user_id": payout.user_id}


def list_payouts(actor: Actor, status: str | None = None, **filters):
    return accounts.list_payouts(actor, status=PayoutStatus(status) if status else None, **filters)


def decide(actor: Actor, payout_id: int, status: str, reason: str):
    before = _state(accounts.get_payout(payout_id, for_update=True))
    payout = accounts.decide_payout(actor, payout_id, PayoutStatus(status), note=reason)
    audit.record(actor, "payouts.decide", "payout", payout_id, before=before, after=_state(payout), reason=reason)
    return payout


def platform(actor: Actor) -> dict:
    actor.require_admin("see the platform's accounts")
    return accounts.platform_accounts()
