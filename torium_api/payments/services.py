"""The payment provider's events: recorded once each (their id is unique), a successful payment credited to the
wallet it names in the same transaction.

A redelivered event (the provider retries until it gets a 2xx) finds its id taken and changes nothing; two
deliveries at once queue on the unique index, and the second finds the first's row once it commits.
"""

from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from torium_api.accounts import services as accounts
from torium_api.accounts.models import EntryKind
from torium_api.errors import Invalid
from torium_api.extensions import db
from torium_api.paging import CursorPage, keyset_page
from torium_api.payments.models import PaymentEvent
from torium_api.users import services as users

SUCCEEDED = "payment.succeeded"


def record_event(event: dict) -> dict:
    """Record the provider's event; credit the wallet when it is a successful payment. Events of other types are
    acknowledged and kept, and change no balance. An event seen before is acknowledged first, whatever happened
    since (its user erased, say): the provider must stop sending it."""
    earlier = _find(event["id"])
    if earlier is not None:
        return _duplicate(earlier)
    data, credits = event["data"], event["type"] == SUCCEEDED
    values = {"provider_event_id": event["id"], "type": event["type"], "credited": credits}
    if credits:
        _check_payment(data)
        values.update(user_id=data["user_id"], amount_cents=data["amount_cents"], currency=data["currency"])
    row_id = db.session.scalar(insert(PaymentEvent).values(**values).on_conflict_do_nothing(
        index_elements=[PaymentEvent.provider_event_id]).returning(PaymentEvent.id))
    if row_id is None:  # a copy delivered at the same moment committed first
        return _duplicate(_find(event["id"]))
    if credits:
        accounts.move(data["user_id"], data["amount_cents"], EntryKind.DEPOSIT, reference=f"payment:{row_id}")
    return {"event_id": event["id"], "credited": credits, "duplicate": False}


def _find(provider_event_id: str) -> PaymentEvent | None:
    return db.session.scalar(db.select(PaymentEvent).where(PaymentEvent.provider_event_id == provider_event_id))


def _duplicate(earlier: PaymentEvent) -> dict:
    return {"event_id": earlier.provider_event_id, "credited": earlier.credited, "duplicate": True}


def _check_payment(data: dict) -> None:
    """A successful payment names an existing, not erased user, a positive amount and our currency. A 422 tells
    the provider (who retries): nothing was recorded."""
    problems = {name: ["Required for payment.succeeded."] for name in ("user_id", "amount_cents", "currency")
                if name not in data}
    if not problems:
        user = users.find_user(data["user_id"])
        if user is None or user.deleted_at is not None:
            problems["user_id"] = ["No such user (or the account was deleted)."]
        if data["currency"] != current_app.config["CURRENCY"]:
            problems["currency"] = [f"Wallets are in {current_app.config['CURRENCY']}."]
    if problems:
        raise Invalid("This payment cannot be credited", errors={f"data.{k}": v for k, v in problems.items()})


def payments_of(user_id: int) -> list[PaymentEvent]:
    """A user's credited payments, oldest first (their data export)."""
    return list(db.session.scalars(db.select(PaymentEvent).where(PaymentEvent.user_id == user_id)
                                   .order_by(PaymentEvent.id)))


def list_events(cursor: str | None = None, limit: int = 20) -> CursorPage:
    return keyset_page(db.select(PaymentEvent), "payment-events", cursor, limit, id_column=PaymentEvent.id)
