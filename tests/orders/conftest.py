import pytest

from tests.products.conftest import make_product


@pytest.fixture
def store(client, tokens, sqs):
    seller = tokens.headers("seller@shop.example", groups=["seller"])
    wax = make_product(client, seller, name="Wax", price_cents=1999, stock=10)
    helmet = make_product(client, seller, name="Helmet", price_cents=30000, stock=3, category="safety")
    return {"seller": seller, "wax": wax["id"], "helmet": helmet["id"]}
