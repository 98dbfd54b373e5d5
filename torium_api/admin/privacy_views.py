"""The caller's own account, across domains: delete it (erasure) and export its data (beside the contract's /users
routes, which stay as they are)."""

from flask.views import MethodView

from torium_api.admin import privacy_blp as blp
from torium_api.admin.schemas import ErasureSchema, ExportSchema
from torium_api.admin.services import privacy
from torium_api.auth import current_actor
from torium_api.database import transaction


@blp.route("/users/me")
class MyAccount(MethodView):
    @blp.response(200, ErasureSchema)
    @blp.alt_response(409, description="Orders in progress, money in the wallet, or products listed")
    def delete(self):
        """Delete the caller's account: personal data erased, groups left; the caller's tokens stop working"""
        with transaction():
            return privacy.erase(current_actor(), current_actor().id)


@blp.route("/users/export")
class MyData(MethodView):
    @blp.response(200, ExportSchema)
    def get(self):
        """Everything the platform holds about the caller: profile, groups, events, comments, orders, ledger"""
        return privacy.export(current_actor())
