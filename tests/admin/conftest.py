import uuid
from dataclasses import dataclass

import pytest

from tests.factories import ADDRESS, data_of, fund, make_product, run_background


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


def place(client, headers, *lines) -> dict:
    body = {"lines": [{"product_id": p, "quantity": q} for p, q in lines], "shipping_address": ADDRESS}
    return data_of(client.post("/orders", headers=headers, json=body), 202)


def completed(app, client, headers, *lines) -> dict:
    """An order placed through the API and fulfilled by the background (reserved, charged, shipped, settled)."""
    order = place(client, headers, *lines)
    run_background(app)
    done = data_of(client.get(f"/orders/{order['id']}", headers=headers))
    assert done["status"] == "completed", done
    return done


@dataclass
class Pool:
    idp: object
    id: str

    def user(self, username: str) -> None:
        self.idp.admin_create_user(UserPoolId=self.id, Username=username, MessageAction="SUPPRESS",
                                   UserAttributes=[{"Name": "email", "Value": username}])

    def attributes(self, username: str) -> dict:
        user = self.idp.admin_get_user(UserPoolId=self.id, Username=username)
        return {**{a["Name"]: a["Value"] for a in user["UserAttributes"]}, "Enabled": user["Enabled"]}

    def groups(self, username: str) -> set[str]:
        groups = self.idp.admin_list_groups_for_user(UserPoolId=self.id, Username=username)["Groups"]
        return {g["GroupName"] for g in groups}

    def exists(self, username: str) -> bool:
        try:
            self.idp.admin_get_user(UserPoolId=self.id, Username=username)
        except self.idp.exceptions.UserNotFoundException:
            return False
        return True


@pytest.fixture
def cognito_pool(app, monkeypatch) -> Pool:
    """A user pool in moto's Cognito (as infra/cognito.yaml declares it: custom:user_id, the admin and seller groups)
    that the workers' admin calls go to; the app's verifier keeps trusting the local test issuer."""
    from torium_api import aws

    with app.app_context():
        idp = aws.client("cognito-idp")
    pool = idp.create_user_pool(PoolName=f"t{uuid.uuid4().hex[:8]}", Schema=[
        {"Name": "user_id", "AttributeDataType": "String", "Mutable": True}])["UserPool"]["Id"]
    for group in ("admin", "seller"):
        idp.create_group(GroupName=group, UserPoolId=pool)
    monkeypatch.setitem(app.config, "COGNITO_ADMIN_USER_POOL_ID", pool)
    return Pool(idp, pool)
