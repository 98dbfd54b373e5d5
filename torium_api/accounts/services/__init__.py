"""The accounts domain's public functions (what views, orders and payments call)."""

from torium_api.accounts.services.ledger import (
    SYSTEM,
    InsufficientFunds,
    balance_of,
    lock_accounts,
    move,
    transfer,
)
from torium_api.accounts.services.payouts import all_payouts, decide_payout, get_payout, list_payouts, my_payouts
from torium_api.accounts.services.wallets import (
    adjust,
    all_entries,
    deposit,
    get_account,
    ledger_of,
    list_customers,
    list_entries,
    platform_accounts,
    user_balance,
    withdraw,
)

__all__ = [
    "SYSTEM", "InsufficientFunds", "adjust", "all_entries", "all_payouts", "balance_of", "decide_payout", "deposit",
    "get_account", "get_payout", "ledger_of", "list_customers", "list_entries", "list_payouts", "lock_accounts",
    "move", "my_payouts", "platform_accounts", "transfer", "user_balance", "withdraw",
]
