"""Who is acting: the user a verified token names and the shop roles the token grants.

``auth`` builds one ``Actor`` per request and hands it to services; workers build one for the user a
message is about. Group roles (admin, moderator, standard) are something else: per group, in ``groups``.
"""

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torium_api.errors import Forbidden

if TYPE_CHECKING:
    from torium_api.users.models import User


class AppRole(enum.StrEnum):
    """Shop-wide roles: Cognito groups of the same names, carried in the token's ``cognito:groups``."""

    ADMIN = "admin"
    SELLER = "seller"

    @classmethod
    def from_claims(cls, groups) -> frozenset["AppRole"]:
        """The roles among a token's groups (other groups are not roles of this API)."""
        known = {role.value: role for role in cls}
        return frozenset(known[group] for group in groups or () if isinstance(group, str) and group in known)


@dataclass(frozen=True)
class Actor:
    user: "User"
    roles: frozenset[AppRole] = frozenset()

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return AppRole.ADMIN in self.roles

    @property
    def is_seller(self) -> bool:
        return AppRole.SELLER in self.roles

    def require_admin(self, to: str) -> None:
        """The back office's default deny, in every service it calls: Forbidden("Only admins can <to>")."""
        if not self.is_admin:
            raise Forbidden(f"Only admins can {to}")
