"""The back office's thin orchestration services (the rules are in the domains' services)."""

from torium_api.admin.services import customers, orders, payouts, privacy

__all__ = ["customers", "orders", "payouts", "privacy"]
