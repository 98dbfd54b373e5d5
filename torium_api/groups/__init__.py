from torium_api.web import Blueprint

blp = Blueprint("groups", __name__, description="Groups, their members, roles and invitations")

from torium_api.groups import views  # noqa: E402,F401
