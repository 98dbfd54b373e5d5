import marshmallow as ma
from marshmallow import validate

from torium_api.fields import FullMatch, StrictBoolean, StrictSchema
from torium_api.paging import cursor_field, limit_field
from torium_api.products.models import MAX_PRICE_CENTS, MAX_STOCK

CATEGORY = FullMatch(r"^[a-z0-9][a-z0-9 -]{0,49}$", error="Lower-case letters, digits, spaces or dashes.")
SORTS = ("newest", "price_asc", "price_desc", "name")
HTTPS_URL = {"format": "uri", "pattern": "^https://[A-Za-z0-9.-]+\\.[A-Za-z]{2,}(/[A-Za-z0-9._~/-]*)?$"}


def cents(**kwargs):
    return ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_PRICE_CENTS), **kwargs)


class ProductCreateSchema(StrictSchema):
    EXAMPLE = {"name": "Mountain wax", "description": "Warm-snow glide wax, 60 g", "category": "ski wax",
               "price_cents": 4999, "stock": 25, "image_url": "https://images.torium.example/wax.jpg",
               "active": True}

    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    category = ma.fields.String(required=True, validate=CATEGORY)
    price_cents = cents(required=True, metadata={"description": "Price in minor units (grosze, cents)"})
    stock = ma.fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=MAX_STOCK))
    image_url = ma.fields.Url(schemes={"https"}, validate=validate.Length(max=1000), allow_none=True,
                              metadata=HTTPS_URL)
    active = StrictBoolean(load_default=True)


class ProductUpdateSchema(StrictSchema):
    EXAMPLE = {"price_cents": 4499, "active": True}

    name = ma.fields.String(validate=validate.Length(min=1, max=200))
    description = ma.fields.String(validate=validate.Length(max=2000))
    category = ma.fields.String(validate=CATEGORY)
    price_cents = cents()
    image_url = ma.fields.Url(schemes={"https"}, validate=validate.Length(max=1000), allow_none=True,
                              metadata=HTTPS_URL)
    active = StrictBoolean()


class RestockSchema(StrictSchema):
    EXAMPLE = {"quantity": 10}

    quantity = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_STOCK))


class ProductQueryArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    q = ma.fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Words to search"})
    category = ma.fields.String(validate=CATEGORY)
    seller_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    min_price = ma.fields.Integer(validate=validate.Range(min=0, max=MAX_PRICE_CENTS))
    max_price = ma.fields.Integer(validate=validate.Range(min=0, max=MAX_PRICE_CENTS))
    in_stock = ma.fields.Boolean()
    include_inactive = ma.fields.Boolean(load_default=False,
                                         metadata={"description": "Admins: all; sellers: their own"})
    sort = ma.fields.String(load_default="newest", validate=validate.OneOf(SORTS))
    cursor = cursor_field()
    limit = limit_field()


class ProductSchema(ma.Schema):
    # The listing's service returns dicts of exactly these fields, in this order (products.services._listed_item;
    # web.cursor_page_schema sends them as they are); single products are dumped from the model as usual.
    RENDERED_BY_SERVICE = True

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    price_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    stock = ma.fields.Integer(required=True)
    in_stock = ma.fields.Function(lambda p: p.stock > 0, required=True, metadata={"type": "boolean"})
    image_url = ma.fields.String(required=True, allow_none=True)
    active = ma.fields.Boolean(required=True)
    deleted = ma.fields.Function(lambda p: p.deleted_at is not None, required=True, metadata={"type": "boolean"})
    seller_id = ma.fields.Integer(required=True)
    version = ma.fields.Integer(required=True, metadata={"description": "Also the ETag: \"<id>-<version>\""})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class ImageUploadSchema(ma.Schema):
    upload_url = ma.fields.String(required=True, metadata={"description": "PUT the image here (15 minutes)"})
    image_url = ma.fields.String(required=True, metadata={"description": "Then PATCH the product with this"})
