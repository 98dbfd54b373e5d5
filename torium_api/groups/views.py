"""Contract routes 10–20. Paths, headers and fields follow the Flutter app; the caller is the token's user."""

from flask.views import MethodView

from torium_api.auth import current_actor
from torium_api.database import transaction
from torium_api.groups import blp, services
from torium_api.groups.schemas import (
    AnswerSchema,
    GroupCreatedSchema,
    GroupCreateSchema,
    GroupDeleteSchema,
    GroupHeadersSchema,
    GroupSchema,
    GroupUpdateSchema,
    InvitationCountSchema,
    InvitationSchema,
    MemberSchema,
    RoleUpdateSchema,
    TargetHeadersSchema,
)

PAGE = {"page_size": 100, "max_page_size": 500}
NOT_A_MEMBER = "No such group, or the caller is not in it"


@blp.route("/groups")
class Groups(MethodView):
    @blp.conditional()
    @blp.response(200, GroupSchema(many=True))
    @blp.paginate(**PAGE)
    def get(self, pagination_parameters):
        """The caller's groups, each once, with the caller's role as `status`"""
        page = pagination_parameters
        items, page.item_count = services.list_groups(current_actor(), page.page, page.page_size)
        return items

    @blp.arguments(GroupCreateSchema)
    @blp.response(200, GroupCreatedSchema)
    @blp.alt_response(429, description="Too many new groups today, or too many groups owned")
    def post(self, data):
        """Create a group; the caller becomes its admin"""
        with transaction():
            group = services.create_group(current_actor(), **data)
        return {"group_id": group.id}

    @blp.arguments(GroupUpdateSchema)
    @blp.response(200)
    @blp.alt_response(403, description="Not the group's admin (or admin_id is not the caller)")
    @blp.alt_response(404, description=NOT_A_MEMBER)
    def put(self, data):
        """Rename or re-describe a group (admins)"""
        with transaction():
            services.update_group(current_actor(), data["id"], data["name"], data["description"],
                                  admin_id=data.get("admin_id"))

    @blp.arguments(GroupDeleteSchema)
    @blp.response(200)
    @blp.alt_response(403, description="Not the group's admin")
    @blp.alt_response(404, description=NOT_A_MEMBER)
    def delete(self, data):
        """Delete a group and everything in it (admins)"""
        with transaction():
            services.delete_group(current_actor(), data["id"])


@blp.route("/groups/invitation")
class Invitations(MethodView):
    @blp.conditional(digest=lambda: services.invitations_digest(current_actor()))
    @blp.response(200, InvitationSchema(many=True))
    def get(self):
        """The caller's pending invitations, newest first"""
        return services.list_invitations(current_actor())


@blp.route("/groups/invitation/count")
class InvitationCount(MethodView):
    @blp.response(200, InvitationCountSchema)
    def get(self):
        """How many invitations wait for the caller"""
        return {"count": services.count_invitations(current_actor())}


@blp.route("/group/members")
class Members(MethodView):
    trm_user_id_target_methods = ("POST", "DELETE")  # there trm-user-id names the member, not the caller

    @blp.conditional()
    @blp.arguments(GroupHeadersSchema, location="headers")
    @blp.response(200, MemberSchema(many=True))
    @blp.paginate(**PAGE)
    @blp.alt_response(404, description=NOT_A_MEMBER)
    def get(self, headers, pagination_parameters):
        """The group's other members (members only)"""
        page = pagination_parameters
        items, page.item_count = services.list_members(current_actor(), headers["group_id"], page.page,
                                                       page.page_size)
        return items

    @blp.arguments(TargetHeadersSchema, location="headers")
    @blp.response(200)
    @blp.alt_response(403, description="Not an admin or moderator of the group")
    @blp.alt_response(404, description=NOT_A_MEMBER + "; or no such user")
    @blp.alt_response(409, description="Already a member, already invited, or the group is full")
    @blp.alt_response(429, description="Too many invitations today")
    @blp.doc(operationId="inviteMember")
    def post(self, headers):
        """Invite the user named by trm-user-id (admins and moderators)"""
        with transaction():
            services.invite_member(current_actor(), headers["group_id"], headers["user_id"])

    @blp.arguments(TargetHeadersSchema, location="headers")
    @blp.response(200)
    @blp.alt_response(403, description="Moderators remove standard members only; others remove only themselves")
    @blp.alt_response(404, description=NOT_A_MEMBER + "; or that user is not in it")
    @blp.alt_response(409, description="The last admin cannot leave or be removed")
    @blp.doc(operationId="removeMember")
    def delete(self, headers):
        """Remove the member named by trm-user-id, or leave when it is the caller"""
        with transaction():
            services.remove_member(current_actor(), headers["group_id"], headers["user_id"])


@blp.route("/group/members/status")
class InvitationAnswer(MethodView):
    @blp.arguments(GroupHeadersSchema, location="headers")
    @blp.arguments(AnswerSchema)
    @blp.response(200)
    @blp.alt_response(404, description="No pending invitation to this group")
    @blp.doc(operationId="answerInvitation")
    def patch(self, headers, data):
        """Accept (`confirmed`) or reject (`rejected`) the caller's invitation to the group"""
        with transaction():
            services.answer_invitation(current_actor(), headers["group_id"], accept=data["status"] == "confirmed")


@blp.route("/group/members/role")
class MemberRole(MethodView):
    @blp.arguments(GroupHeadersSchema, location="headers")
    @blp.arguments(RoleUpdateSchema)
    @blp.response(200)
    @blp.alt_response(403, description="Not the group's admin")
    @blp.alt_response(404, description=NOT_A_MEMBER + "; or that user is not in it")
    @blp.alt_response(409, description="The group's last admin cannot step down")
    def patch(self, headers, data):
        """Set a member's role (admins); a group always keeps an admin"""
        with transaction():
            services.change_role(current_actor(), headers["group_id"], data["user_id"], data["status"])
