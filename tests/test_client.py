"""A Python client generated from api-schema.json (openapi-python-client, as a client team would) drives the app
in-process with real tokens: the spec is a contract that generates working, typed clients.

The client is generated once per session into a temporary directory (no network, ~2 s): ``literal_enums`` because
the time-zone enum has GMT+0, GMT-0 and GMT0, which name the same Python enum member; no post hooks (ruff).
"""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "http://testserver"


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    config = out / "config.json"
    config.write_text(json.dumps({"package_name_override": "torium_client", "post_hooks": [], "literal_enums": True}))
    generator = Path(sys.executable).with_name("openapi-python-client")
    proc = subprocess.run([str(generator), "generate", "--path", str(ROOT / "api-schema.json"), "--config", str(config),
                           "--meta", "none", "--output-path", str(out / "torium_client"), "--overwrite",
                           "--fail-on-warning"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # any warning: an operation or a model was dropped
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("torium_client")
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name.split(".")[0] == "torium_client"]:
            del sys.modules[name]


def _client(generated, app, token=None):
    transport = httpx.WSGITransport(app=app)
    if token is None:
        return generated.Client(base_url=BASE_URL, httpx_args={"transport": transport})
    return generated.AuthenticatedClient(base_url=BASE_URL, token=token, httpx_args={"transport": transport})


def test_every_operation_has_a_function_named_by_its_operation_id(generated):
    spec = json.loads((ROOT / "api-schema.json").read_text())
    for path, item in spec["paths"].items():
        for method, operation in ((m, op) for m, op in item.items() if m != "parameters"):
            tag, name = operation["tags"][0], _snake(operation["operationId"])
            module = importlib.import_module(f"torium_client.api.{tag}.{name}")
            assert callable(module.sync_detailed), (method, path)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def test_a_group_an_event_comments_a_product_and_an_order_through_the_generated_client(app, tokens, generated):
    from torium_client.api.events import create_comment, create_event, list_comments
    from torium_client.api.groups import create_group, list_groups
    from torium_client.api.orders import create_order, get_order
    from torium_client.api.products import create_product
    from torium_client.models import (
        Address,
        CommentCreate,
        CommentListEnvelope,
        ErrorEnvelope,
        EventCreate,
        GroupCreate,
        GroupListEnvelope,
        LineCreate,
        OrderCreate,
        OrderEnvelope,
        ProductCreate,
        ProductEnvelope,
    )

    ada = _client(generated, app, tokens.token("ada@example.com", groups=["seller"]))
    with ada:
        created = create_group.sync(client=ada, body=GroupCreate(name="Chess", description="Tuesdays"))
        group_id = created.data.group_id
        groups = list_groups.sync_detailed(client=ada)
        assert isinstance(groups.parsed, GroupListEnvelope) and groups.parsed.status.code == 200
        assert [(g.group_id, g.name, g.status) for g in groups.parsed.data] == [(group_id, "Chess", "admin")]
        again = list_groups.sync_detailed(client=ada, if_none_match=groups.headers["ETag"])
        assert again.status_code == 304 and again.content == b""

        event = create_event.sync(client=ada, trm_group_id=group_id, body=EventCreate(
            name="Tournament", description="", event_timestamp="2031-02-01 18:30:00", is_budget=False,
            reminder="once", schedule_period="1 day", users=[]))
        event_id = event.data.id
        comment = create_comment.sync(client=ada, body=CommentCreate(event_id=event_id, comment="Bring a clock"))
        assert comment.status.code == 200 and len(comment.data.events_comments_id) == 1
        comments = list_comments.sync(client=ada, trm_event_id=event_id)
        assert isinstance(comments, CommentListEnvelope)
        assert [(c.comment, c.event_id) for c in comments.data] == [("Bring a clock", event_id)]

        product = create_product.sync_detailed(client=ada, idempotency_key="first-wax", body=ProductCreate(
            name="Wax", category="ski wax", price_cents=4999, stock=5))
        assert product.status_code == 201 and isinstance(product.parsed, ProductEnvelope)
        assert product.headers["Location"] == f"/products/{product.parsed.data.id}"
        order = create_order.sync_detailed(client=ada, body=OrderCreate(
            lines=[LineCreate(product_id=product.parsed.data.id, quantity=2)],
            shipping_address=Address(name="Ada", line1="Krupowki 1", city="Zakopane", postal_code="34-500",
                                     country="PL")))
        assert order.status_code == 202 and isinstance(order.parsed, OrderEnvelope)
        assert order.parsed.data.total_cents == 2 * 4999 and order.parsed.data.status == "pending"
        read = get_order.sync(client=ada, order_id=order.parsed.data.id)
        assert isinstance(read, OrderEnvelope) and read.data.lines[0].product_name == "Wax"

        refused = create_group.sync(client=ada, body=GroupCreate(name="", description=""))
        assert isinstance(refused, ErrorEnvelope) and refused.status.code == 422
        assert refused.errors.additional_properties == {"name": ["Length must be between 1 and 50."]}
    with _client(generated, app) as anonymous:
        denied = list_groups.sync_detailed(client=anonymous)
        assert denied.status_code == 401 and isinstance(denied.parsed, ErrorEnvelope)
        assert denied.headers["WWW-Authenticate"].startswith("Bearer")
