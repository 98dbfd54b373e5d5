from dataclasses import dataclass

import pytest

from tests.factories import Cast, make_product

ROLES = {"admin": ["admin"], "owner": ["seller"], "seller": ["seller"], "customer": []}


@dataclass
class Shop(Cast):
    ids: dict
    headers: dict
    product_id: int


@pytest.fixture
def shop(app, tokens) -> Shop:
    ids, headers = {}, {}
    for who, groups in ROLES.items():
        ids[who], headers[who] = tokens.user(f"{who}@shop.example", groups=groups)
    headers["anonymous"] = {}
    return Shop(ids, headers, make_product(app, ids["owner"]))
