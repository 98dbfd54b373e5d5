from torium_api.web import Blueprint

blp = Blueprint("users", __name__, description="The caller's profile, phone verification and device")

from torium_api.users import views  # noqa: E402,F401
