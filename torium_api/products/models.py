from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from torium_api.extensions import db
from torium_api.orm import TimestampMixin
from torium_api.users.models import User

LISTED = text("active AND deleted_at IS NULL")
MAX_PRICE_CENTS = 10**10
MAX_STOCK = 1_000_000


class Product(TimestampMixin, db.Model):
    """A catalogue item. Money in integer minor units; stock moves only by guarded UPDATEs."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_cents > 0", name="price_positive"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("version > 0", name="version_positive"),
        Index("ix_products_search", "search", postgresql_using="gin"),
        Index("ix_products_listed_created", "created_at", "id", postgresql_where=LISTED),
        Index("ix_products_listed_price", "price_cents", "id", postgresql_where=LISTED),
        Index("ix_products_listed_name", "name", "id", postgresql_where=LISTED),
        Index("ix_products_listed_category_price", "category", "price_cents", "id", postgresql_where=LISTED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000))
    category: Mapped[str] = mapped_column(String(50))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer)
    image_url: Mapped[str | None] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    search = mapped_column(TSVECTOR, Computed("to_tsvector('simple', name || ' ' || description)", persisted=True),
                           deferred=True)

    # Nothing reads a product's seller row (responses carry seller_id): joining it (and its organization) into
    # every product load cost a User and an Organization object per listed product. raise_on_sql: a hidden lazy
    # load fails in tests instead of adding a query per row.
    seller: Mapped[User] = relationship(lazy="raise_on_sql")

    @property
    def etag(self) -> str:
        return f'"{self.id}-{self.version}"'
