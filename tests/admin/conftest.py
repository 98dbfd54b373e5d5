from dataclasses import dataclass

import pytest

from tests.factories import fund, make_product


@dataclass
class Shop:
    """An admin, a seller with two products, a buyer with 1,000.00, a bystander customer: (id, headers) each."""

    admin: tuple[int, dict]
    seller: tuple[int, dict]
    buyer: tuple[int, dict]
    other: tuple[int, dict]
    wax: int
    helmet: int


@pytest.fixture
def shop(app, client, tokens, sqs) -> Shop:
    admin = tokens.user("boss@shop.example", groups=["admin"])
    seller = tokens.user("seller@shop.example", groups=["seller"])
    buyer = tokens.user("buyer@shop.example")
    other = tokens.user("other@shop.example")
    for _, headers in (admin, seller, buyer, other):
        client.get("/users", headers=headers)  # roles seen in tokens are noted now, not during a test's snapshot
    fund(app, buyer[0], 100_000)
    wax = make_product(app, seller[0], name="Wax", price_cents=1999, stock=50)
    helmet = make_product(app, seller[0], name="Helmet", price_cents=30_000, stock=5, category="safety")
    return Shop(admin, seller, buyer, other, wax, helmet)
