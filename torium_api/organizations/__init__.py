from torium_api.web import Blueprint

blp = Blueprint("organizations", __name__, description="Organizations (banks) users can pay their share to")

from torium_api.organizations import views  # noqa: E402,F401
