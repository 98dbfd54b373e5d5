"""The back office (``/admin/...``, admins only) and the caller's own cross-domain actions (leaving the platform,
exporting their data).

An adapter on top of the domains: its views call its thin orchestration services, which call the domains'
services (where the business rules live) and write the audit log in the same transaction as each admin action.
``blp``'s guard refuses anyone but an admin before a request's arguments are even read; every service checks again.
"""

from torium_api.web import Blueprint

blp = Blueprint("admin", __name__, description="The back office: customers, orders, money, payouts, audit (admins)")
privacy_blp = Blueprint("privacy", __name__, description="The caller's account: delete it (erasure), export its data")

from torium_api.admin import privacy_views, views  # noqa: E402,F401
