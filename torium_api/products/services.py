"""Products: who may manage them, guarded stock changes, keyset listing with search."""

import uuid

from botocore.exceptions import BotoCoreError
from flask import current_app
from sqlalchemy import and_, func

from torium_api import aws, clock
from torium_api.actor import Actor
from torium_api.database import locked
from torium_api.errors import (
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
)
from torium_api.extensions import db
from torium_api.paging import CursorPage, keyset_page
from torium_api.products.models import MAX_STOCK, Product

_SORTS = {
    "newest": (Product.created_at, False),
    "price_asc": (Product.price_cents, True),
    "price_desc": (Product.price_cents, False),
    "name": (Product.name, True),
}


def _listed():
    """Written exactly as the partial indexes' predicate (`active AND deleted_at IS NULL`), so they apply."""
    return and_(Product.active, Product.deleted_at.is_(None))


def _manages(actor: Actor, product: Product) -> bool:
    return actor.is_admin or (actor.is_seller and product.seller_id == actor.id)


def create_product(actor: Actor, **fields) -> Product:
    if not (actor.is_admin or actor.is_seller):
        raise Forbidden("Only sellers and admins can create products")
    product = Product(seller_id=actor.id, currency=current_app.config["CURRENCY"], **fields)
    db.session.add(product)
    db.session.flush()
    return product


def get_product(actor: Actor, product_id: int, *, for_update: bool = False) -> Product:
    """Listed products are visible to everyone; unlisted ones only to who manages them."""
    query = db.select(Product).where(Product.id == product_id)
    product = db.session.scalar(locked(query, of=Product) if for_update else query)
    if product is None or not (product.active and product.deleted_at is None or _manages(actor, product)):
        raise NotFound("Product not found")
    return product


def _managed(actor: Actor, product_id: int, if_match: str | None) -> Product:
    product = get_product(actor, product_id, for_update=True)
    if not _manages(actor, product):
        raise Forbidden("Only the product's seller or an admin can change it")
    if if_match is None:
        raise PreconditionRequired()
    if if_match.strip() not in (product.etag, "*"):
        raise PreconditionFailed()
    return product


def update_product(actor: Actor, product_id: int, if_match: str | None, **fields) -> Product:
    product = _managed(actor, product_id, if_match)
    if product.deleted_at is not None:
        raise NotFound("Product not found")
    for name, value in fields.items():
        setattr(product, name, value)
    product.version += 1
    return product


def delete_product(actor: Actor, product_id: int, if_match: str | None) -> Product:
    """Soft delete: open orders keep their reference and fail checkout with "unavailable"."""
    product = _managed(actor, product_id, if_match or "*")
    product.deleted_at, product.active = clock.now(), False
    product.version += 1
    return product


def restock(actor: Actor, product_id: int, quantity: int) -> Product:
    product = get_product(actor, product_id)
    if not _manages(actor, product):
        raise Forbidden("Only the product's seller or an admin can restock it")
    updated = db.session.execute(
        db.update(Product).where(Product.id == product_id, Product.stock + quantity <= MAX_STOCK)
        .values(stock=Product.stock + quantity).returning(Product.id))
    if updated.first() is None:
        raise Invalid(f"Stock would exceed {MAX_STOCK}", errors={"quantity": ["Too much stock."]})
    db.session.refresh(product)
    return product


def list_products(actor: Actor, *, sort: str, limit: int, cursor: str | None = None,
                  include_inactive: bool = False, **filters) -> CursorPage:
    """One keyset page, sorted by ``sort``; the cursor belongs to that sort."""
    query = db.select(*_LISTED).where(*_filters(actor, include_inactive, **filters))
    column, ascending = _SORTS[sort]
    page = keyset_page(query, sort, cursor, limit, id_column=Product.id, sort_column=column, ascending=ascending,
                       tuples=True)
    return CursorPage([_listed_item(row) for row in page.items], page.next_cursor)


# The listing reads plain columns and renders each row once, as ProductSchema would dump a Product (same fields,
# same order, same values; a test compares them): no ORM object and no marshmallow pass per listed product.
_LISTED = (Product.id, Product.name, Product.description, Product.category, Product.price_cents, Product.currency,
           Product.stock, Product.image_url, Product.active, Product.deleted_at, Product.seller_id, Product.version,
           Product.created_at, Product.updated_at)


def _listed_item(row) -> dict:
    return {"id": row.id, "name": row.name, "description": row.description, "category": row.category,
            "price_cents": row.price_cents, "currency": row.currency, "stock": row.stock, "in_stock": row.stock > 0,
            "image_url": row.image_url, "active": row.active, "deleted": row.deleted_at is not None,
            "seller_id": row.seller_id, "version": row.version, "created_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat()}


def _filters(actor, include_inactive, q=None, category=None, seller_id=None, min_price=None,
             max_price=None, in_stock=None) -> list:
    conditions = []
    if not include_inactive:
        conditions.append(_listed())
    elif not actor.is_admin:
        if not actor.is_seller:
            raise Forbidden("Only sellers and admins can list unlisted products")
        conditions.append(Product.seller_id == actor.id)
    if q:
        conditions.append(Product.search.op("@@")(func.websearch_to_tsquery("simple", q)))
    for wanted, condition in ((category, Product.category == category), (seller_id, Product.seller_id == seller_id),
                              (min_price, Product.price_cents >= (min_price or 0)),
                              (max_price, Product.price_cents <= (max_price or 0))):
        if wanted is not None:
            conditions.append(condition)
    if in_stock is not None:
        conditions.append(Product.stock > 0 if in_stock else Product.stock == 0)
    return conditions


def image_upload_url(actor: Actor, product_id: int, content_type: str = "image/jpeg") -> dict:
    """A presigned S3 PUT for the product's image (no network call: presigning is local)."""
    product = get_product(actor, product_id)
    if not _manages(actor, product):
        raise Forbidden("Only the product's seller or an admin can change its image")
    bucket, key = current_app.config["PRODUCT_IMAGE_BUCKET"], f"products/{product.id}/{uuid.uuid4().hex}.jpg"
    try:
        upload_url = aws.client("s3").generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": key, "ContentType": content_type}, ExpiresIn=900)
    except BotoCoreError:  # e.g. no credentials to sign with
        raise ServiceUnavailable("Image uploads are not available right now") from None
    region = current_app.config["AWS_REGION"]
    return {"upload_url": upload_url, "image_url": f"https://{bucket}.s3.{region}.amazonaws.com/{key}"}


# --- used by orders ---------------------------------------------------------------------------

def find_sellable(product_ids: list[int]) -> dict[int, Product]:
    """The listed products among ``product_ids`` (one query)."""
    rows = db.session.scalars(db.select(Product).where(Product.id.in_(product_ids), _listed()))
    return {product.id: product for product in rows}


def take_stock(product_id: int, quantity: int) -> str | None:
    """Decrement stock if the product is listed and has enough; otherwise say why not."""
    taken = db.session.execute(
        db.update(Product).where(Product.id == product_id, _listed(), Product.stock >= quantity)
        .values(stock=Product.stock - quantity).returning(Product.id)).first()
    if taken is not None:
        return None
    listed = db.session.scalar(db.select(Product.id).where(Product.id == product_id, _listed()))
    return "out_of_stock" if listed else "product_unavailable"


def return_stock(product_id: int, quantity: int) -> None:
    """Give reserved stock back (also to unlisted products: the units exist)."""
    db.session.execute(db.update(Product).where(Product.id == product_id).values(stock=Product.stock + quantity))
