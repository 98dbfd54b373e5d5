"""/products: conventional REST (plural nouns, ids in paths, 201 on create, keyset pages)."""

from flask import request
from flask.views import MethodView

from torium_api.auth import current_actor
from torium_api.database import transaction
from torium_api.idempotency import DOC as IDEMPOTENCY_DOC
from torium_api.idempotency import idempotent
from torium_api.products import blp, services
from torium_api.products.schemas import (
    ImageUploadSchema,
    ProductCreateSchema,
    ProductQueryArgsSchema,
    ProductSchema,
    ProductUpdateSchema,
    RestockSchema,
)

IF_MATCH = {"parameters": [{"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
                            "description": "The ETag from GET /products/{id}"}]}
IF_MATCH_OPTIONAL = {"parameters": [{**IF_MATCH["parameters"][0], "required": False}]}
ETAG = {"ETag": "ETag"}  # openapi.HEADERS
NOT_MANAGER = "Not the product's seller nor an admin"


def _with_etag(product):
    return product, {"ETag": product.etag}


@blp.route("/products")
class Products(MethodView):
    @blp.conditional()
    @blp.arguments(ProductQueryArgsSchema, location="query")
    @blp.cursor_page(ProductSchema, description="Pass as `cursor` for the next page; null at the end")
    @blp.alt_response(403, description="include_inactive: sellers and admins only")
    def get(self, args):
        """Search and list products (keyset pages: pass `next_cursor` back as `cursor`)"""
        return services.list_products(current_actor(), **args)

    @idempotent
    @blp.arguments(ProductCreateSchema)
    @blp.response(201, ProductSchema, headers=ETAG)
    @blp.alt_response(403, description="Sellers and admins only")
    @blp.doc(**IDEMPOTENCY_DOC)
    def post(self, data):
        """Create a product (sellers and admins); the caller is its seller"""
        with transaction():
            product = services.create_product(current_actor(), **data)
        return product, {"ETag": product.etag, "Location": f"/products/{product.id}"}


@blp.route("/products/<int:product_id>")
class ProductById(MethodView):
    @blp.response(200, ProductSchema, headers=ETAG)
    @blp.alt_response(404, description="No such product, or it is unlisted and not the caller's to manage")
    def get(self, product_id):
        """One product, with its ETag"""
        return _with_etag(services.get_product(current_actor(), product_id))

    @blp.arguments(ProductUpdateSchema)
    @blp.response(200, ProductSchema, headers=ETAG)
    @blp.alt_response(403, description=NOT_MANAGER)
    @blp.alt_response(404, description="No such product (or it was deleted)")
    @blp.alt_response(412, description="The ETag is stale")
    @blp.alt_response(428, description="If-Match is missing")
    @blp.doc(**IF_MATCH)
    def patch(self, data, product_id):
        """Change a product (its seller or an admin); needs If-Match"""
        with transaction():
            product = services.update_product(current_actor(), product_id,
                                              request.headers.get("If-Match"), **data)
        return _with_etag(product)

    @blp.response(200, ProductSchema, headers=ETAG)
    @blp.alt_response(403, description=NOT_MANAGER)
    @blp.alt_response(412, description="If-Match was sent and is stale")
    @blp.doc(**IF_MATCH_OPTIONAL)
    def delete(self, product_id):
        """Soft-delete a product (its seller or an admin); If-Match is honoured when sent"""
        with transaction():
            product = services.delete_product(current_actor(), product_id,
                                              request.headers.get("If-Match"))
        return _with_etag(product)


@blp.route("/products/<int:product_id>/restock")
class Restock(MethodView):
    @blp.arguments(RestockSchema)
    @blp.response(200, ProductSchema, headers=ETAG)
    @blp.alt_response(403, description=NOT_MANAGER)
    @blp.doc(operationId="restockProduct")
    def post(self, data, product_id):
        """Add stock (its seller or an admin)"""
        with transaction():
            product = services.restock(current_actor(), product_id, data["quantity"])
        return _with_etag(product)


@blp.route("/products/<int:product_id>/image-upload-url")
class ImageUpload(MethodView):
    @blp.response(200, ImageUploadSchema)
    @blp.alt_response(403, description=NOT_MANAGER)
    @blp.alt_response(503, description="Uploads cannot be signed right now")
    @blp.doc(operationId="createProductImageUploadUrl")
    def post(self, product_id):
        """A presigned S3 URL to upload the product's image to"""
        return services.image_upload_url(current_actor(), product_id)
