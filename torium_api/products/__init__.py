from torium_api.web import Blueprint

blp = Blueprint("products", __name__, description="The shop's catalogue: products with stock")

from torium_api.products import views  # noqa: E402,F401
