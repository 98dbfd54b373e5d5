from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.factories import Cast
from torium_api.accounts.models import Account, LedgerEntry
from torium_api.extensions import db
from torium_api.products.models import Product

ROLES = {"admin": ["admin"], "owner": ["seller"], "seller": ["seller"], "customer": []}


@dataclass
class Shop(Cast):
    ids: dict
    headers: dict
    product_id: int


def make_product(client, headers, **fields) -> dict:
    body = {"name": "Red ski wax", "description": "Fast wax for cold snow", "category": "ski", "price_cents": 4999,
            "stock": 10, **fields}
    response = client.post("/products", headers=headers, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


@pytest.fixture
def shop(client, tokens) -> Shop:
    ids, headers = {}, {}
    for who, groups in ROLES.items():
        headers[who] = tokens.headers(f"{who}@shop.example", groups=groups)
        ids[who] = client.get("/users", headers=headers[who]).get_json()["data"]["user_id"]
    headers["anonymous"] = {}
    return Shop(ids, headers, make_product(client, headers["owner"])["id"])


def shop_snapshot(app) -> tuple:
    with app.app_context():
        products = db.session.execute(select(Product.id, Product.name, Product.price_cents, Product.stock,
                                             Product.active, Product.deleted_at, Product.version)
                                      .order_by(Product.id)).all()
        accounts = db.session.execute(select(Account.user_id, Account.balance_cents).order_by(Account.id)).all()
        ledger = db.session.execute(select(LedgerEntry.id, LedgerEntry.amount_cents).order_by(LedgerEntry.id)).all()
        return products, accounts, ledger
