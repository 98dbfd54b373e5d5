import pytest

from tests.factories import make_product


@pytest.fixture
def store(app, tokens, sqs):
    seller_id, seller = tokens.user("seller@shop.example", groups=["seller"])
    wax = make_product(app, seller_id, name="Wax", price_cents=1999, stock=10)
    helmet = make_product(app, seller_id, name="Helmet", price_cents=30000, stock=3, category="safety")
    return {"seller": seller, "wax": wax, "helmet": helmet}
