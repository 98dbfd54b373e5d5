from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from torium_api.extensions import db


class Organization(db.Model):
    """Reference data seeded by a migration; ``url`` is the "pay your share here" link."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    logo_key: Mapped[str] = mapped_column(String(200))
