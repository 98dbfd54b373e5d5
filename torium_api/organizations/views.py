from flask.views import MethodView

from torium_api.organizations import blp, services
from torium_api.organizations.schemas import OrganizationSchema


@blp.route("/organizations")
class Organizations(MethodView):
    @blp.response(200, OrganizationSchema(many=True))
    def get(self):
        """List the organizations a user can belong to (contract route 21)"""
        return services.list_organizations()
