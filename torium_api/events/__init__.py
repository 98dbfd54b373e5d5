from torium_api.web import Blueprint

blp = Blueprint("events", __name__, description="Events of a group: members, budget, comments, reminders")

from torium_api.events import views  # noqa: E402,F401
