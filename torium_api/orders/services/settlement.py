"""Where an order's money goes: held in escrow when charged, paid to the sellers and the platform when the order
completes, and back to the buyer on cancellation (from escrow) or refund (from the sellers and the platform).

The platform's fee is fixed per line when the order is placed: ``fee = round_half_up(line × PLATFORM_FEE_BPS /
10000)`` in whole minor units, and the seller is paid the line minus it, so seller + fee = line exactly and a refund
reverses exactly what was paid, whatever the setting is by then. Every movement is one ``accounts.transfer`` (its
legs sum to zero) in the same transaction as the order's status change, under the order's row lock.

A refund after settlement takes each seller's credit back. A seller may already have withdrawn it, and a balance
never goes below zero: the refund is then refused (``SellerShortfall``, nothing moves) unless the admin asks the
platform to cover the difference (``cover_shortfall``): the seller gives back what their wallet holds, the platform
account pays the rest (ledger kind ``shortfall_cover``; recovering it from the seller is a matter outside the app).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from torium_api import clock
from torium_api.accounts import services as accounts
from torium_api.accounts.models import AccountKind, EntryKind
from torium_api.errors import Conflict
from torium_api.notifications import request_notification
from torium_api.orders.models import Order

ESCROW, PLATFORM = AccountKind.ESCROW, AccountKind.PLATFORM


def platform_fee(line_total_cents: int, fee_bps: int) -> int:
    """The platform's share of a line, rounded half up to a whole minor unit (integers only: exact)."""
    return (line_total_cents * fee_bps + 5_000) // 10_000


def hold(order: Order) -> None:
    """The charge: the buyer's wallet to escrow (InsufficientFunds when the buyer cannot pay)."""
    accounts.transfer([(order.user_id, -order.total_cents, EntryKind.PAYMENT),
                       (ESCROW, order.total_cents, EntryKind.PAYMENT)], reference=order.topic)


def return_held(order: Order) -> None:
    """A paid order cancelled or failed before completion: escrow gives the buyer their money back."""
    accounts.transfer([(ESCROW, -order.total_cents, EntryKind.REFUND),
                       (order.user_id, order.total_cents, EntryKind.REFUND)], reference=order.topic)


def _by_seller(order: Order) -> dict[int, int]:
    nets: dict[int, int] = defaultdict(int)
    for line in order.lines:
        nets[line.seller_id] += line.net_cents
    return dict(nets)


def release(order: Order) -> None:
    """The order completed: escrow pays each seller their lines minus the fees, and the platform the fees."""
    fees = sum(line.fee_cents for line in order.lines)
    legs = [(ESCROW, -order.total_cents, EntryKind.SETTLEMENT), (PLATFORM, fees, EntryKind.FEE)]
    legs += [(seller, net, EntryKind.SALE) for seller, net in sorted(_by_seller(order).items())]
    accounts.transfer(legs, reference=order.topic)
    order.settled_at = clock.now()


class SellerShortfall(Conflict):
    message = "Sellers already withdrew part of what this refund takes back"


@dataclass
class Refund:
    order: Order
    refunded_cents: int
    fee_reversed_cents: int
    sellers: list[dict] = field(default_factory=list)  # seller_id, reversed_cents, shortfall_cents
    shortfall_covered_cents: int = 0


def reverse(order: Order, *, cover_shortfall: bool) -> Refund:
    """A settled order's money back to the buyer: each seller's credit and the fee come back (see the module)."""
    if order.settled_at is None:
        raise Conflict("This order completed before sellers were paid through the platform: nothing of it is in "
                       "any wallet to take back; correct the buyer's balance with an adjustment instead")
    nets, fees = _by_seller(order), sum(line.fee_cents for line in order.lines)
    locked = accounts.lock_accounts({*nets, PLATFORM, order.user_id})
    sellers = []
    for seller, net in sorted(nets.items()):
        available = locked[seller].balance_cents + (order.total_cents if seller == order.user_id else 0)
        sellers.append({"seller_id": seller, "reversed_cents": min(net, available),
                        "shortfall_cents": max(net - available, 0)})
    shortfall = sum(s["shortfall_cents"] for s in sellers)
    if shortfall and not cover_shortfall:
        raise SellerShortfall(errors={"cover_shortfall": [
            f"Seller {s['seller_id']} holds {s['reversed_cents']} of the {nets[s['seller_id']]} to take back."
            for s in sellers if s["shortfall_cents"]] + ["Send cover_shortfall: true to have the platform pay it."]})
    legs = [(order.user_id, order.total_cents, EntryKind.REFUND), (PLATFORM, -fees, EntryKind.FEE_REVERSAL),
            (PLATFORM, -shortfall, EntryKind.SHORTFALL_COVER)]
    legs += [(s["seller_id"], -s["reversed_cents"], EntryKind.SALE_REVERSAL) for s in sellers]
    try:
        accounts.transfer(legs, reference=order.topic, accounts=locked)
    except accounts.InsufficientFunds as exc:
        raise Conflict(f"The platform account cannot cover this refund's fee and shortfall ({exc.message})") from None
    _tell_sellers(order, sellers)
    return Refund(order, order.total_cents, fees, sellers, shortfall)


def _tell_sellers(order: Order, sellers: list[dict]) -> None:
    for seller in sellers:
        request_notification(seller["seller_id"], subject=f"Sale #{order.id} refunded",
                             text=f"Order #{order.id} was refunded to its buyer: {seller['reversed_cents']} "
                                  "was taken back from your wallet.", topic=f"sale:{order.id}")
