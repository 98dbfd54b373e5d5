from torium_api.web import Blueprint

blp = Blueprint("accounts", __name__, description="Wallets: a balance and its ledger, per user")

from torium_api.accounts import views  # noqa: E402,F401
