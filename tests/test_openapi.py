"""The generated spec (api-schema.json) as a contract a client can be generated from: valid OpenAPI 3.0, one
readable operationId per operation, every error a client can meet documented in the envelope, typed enums,
examples that the API accepts, servers; and Swagger UI served by the app itself."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import flask
import marshmallow as ma
import pytest
from flask.views import MethodView
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator

from torium_api import web
from torium_api.events.schemas import BUDGET_PATTERN, EventCreateSchema

ROOT = Path(__file__).resolve().parent.parent
SPEC = json.loads((ROOT / "api-schema.json").read_text())
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
OPERATIONS = {f"{method.upper()} {path}": operation for path, item in SPEC["paths"].items()
              for method, operation in item.items() if method in METHODS}
# The Flutter app's contract routes: their ids are what a generated Dart/Python client calls. Renaming a view class
# renames its operationId; doing so must be deliberate.
CONTRACT_IDS = {
    "GET /event": "listEvents", "POST /event": "createEvent", "PUT /event": "updateEvent",
    "DELETE /event": "deleteEvent", "POST /event/notify": "notifyEventMembers",
    "GET /event/comment": "listComments", "POST /event/comment": "createComment",
    "PUT /event/comment": "updateComment", "DELETE /event/comment": "deleteComment",
    "GET /groups": "listGroups", "POST /groups": "createGroup", "PUT /groups": "updateGroup",
    "DELETE /groups": "deleteGroup", "GET /groups/invitation": "listInvitations",
    "GET /groups/invitation/count": "getInvitationCount", "GET /group/members": "listMembers",
    "POST /group/members": "inviteMember", "DELETE /group/members": "removeMember",
    "PATCH /group/members/status": "answerInvitation", "PATCH /group/members/role": "updateMemberRole",
    "GET /organizations": "listOrganizations", "GET /users": "getProfile",
}
# Request bodies of the modules another branch is changing (users/, accounts/, orders/): their schemas get an
# EXAMPLE after that branch is merged. Remove each entry when it does (the test below insists).
AWAITING_EXAMPLES: set[str] = set()


def _resolve(node):
    """A $ref'd object of the spec (responses, headers, parameters), or the node itself."""
    while isinstance(node, dict) and "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = SPEC["components"][section][name]
    return node


def _validator(schema: dict) -> OAS30Validator:
    return OAS30Validator({**schema, "components": SPEC["components"]})


def test_the_spec_is_valid_openapi_3_0():
    assert [error.message for error in OpenAPIV30SpecValidator(SPEC).iter_errors()] == []


def test_every_operation_has_a_unique_readable_operation_id():
    ids = [operation.get("operationId") for operation in OPERATIONS.values()]
    assert all(isinstance(i, str) and re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)+", i) for i in ids), ids
    assert len(ids) == len(set(ids))
    assert len(ids) >= 48


def test_the_contract_routes_operation_ids_are_pinned():
    assert {key: OPERATIONS[key]["operationId"] for key in CONTRACT_IDS} == CONTRACT_IDS


def test_two_operations_with_one_id_stop_the_app_from_starting():
    app = flask.Flask(__name__)
    app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = web.Api(app)
    for name in ("one", "two"):
        blp = web.Blueprint(name, __name__, url_prefix=f"/{name}")

        class Things(MethodView):
            def get(self):
                return {}

        blp.route("/")(Things)
        if name == "one":
            api.register_blueprint(blp)
        else:
            with pytest.raises(ValueError, match="operationId 'getThings'"):
                api.register_blueprint(blp)


def _secured(operation) -> bool:
    return operation.get("security", SPEC["security"]) != []


def test_every_secured_operation_documents_401_with_the_envelope_and_www_authenticate():
    secured = {key: op for key, op in OPERATIONS.items() if _secured(op)}
    public = {key for key, op in OPERATIONS.items() if not _secured(op)}
    assert public == {"GET /health", "POST /payments/webhook"}  # the webhook is signed by the provider instead
    for key, operation in secured.items():
        unauthorized = _resolve(operation["responses"]["401"])
        assert unauthorized["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}
        assert set(unauthorized["headers"]) == {"X-Request-ID", "WWW-Authenticate"}, key
        assert "403" in operation["responses"], key  # a disabled account, a legacy header naming someone else


def test_every_operation_taking_input_documents_422():
    with_input = {key: op for key, op in OPERATIONS.items() if op.get("parameters") or op.get("requestBody")}
    assert len(with_input) > 30
    assert all("422" in op["responses"] for op in with_input.values())
    assert all("422" in op["responses"] for op in OPERATIONS.values())  # NUL in any query string is refused too


def test_every_error_response_is_the_envelope_with_its_headers():
    for key, operation in OPERATIONS.items():
        assert "503" in operation["responses"], key  # any request can meet a database outage
        for status, response in operation["responses"].items():
            if status == "default" or int(status) >= 400:
                response = _resolve(response)
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (key, status)
                assert "X-Request-ID" in response["headers"], (key, status)
                if status in ("429", "503"):
                    assert "Retry-After" in response["headers"], (key, status)


def test_every_response_documents_its_headers():
    for key, operation in OPERATIONS.items():
        responses = operation["responses"]
        for status, response in responses.items():
            assert "X-Request-ID" in _resolve(response).get("headers", {}), (key, status)
        if "304" in responses:
            assert {"ETag"} <= set(responses["200"]["headers"]) and {"ETag"} <= set(responses["304"]["headers"])
            assert any(p["name"] == "If-None-Match" for p in operation["parameters"]), key
        if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
            success = next(r for s, r in responses.items() if s.startswith("2"))
            assert "Idempotent-Replayed" in success["headers"], key
    conditional = {key for key, op in OPERATIONS.items() if "304" in op["responses"]}
    assert conditional == {"GET /groups", "GET /event", "GET /group/members", "GET /groups/invitation",
                           "GET /event/comment", "GET /products"}
    located = {key for key, op in OPERATIONS.items() for r in op["responses"].values()
               if "Location" in _resolve(r).get("headers", {})}
    assert located == {"POST /products", "POST /orders"}
    tagged = {key for key, op in OPERATIONS.items() if "ETag" in op["responses"].get("200", op["responses"].get(
        "201", {})).get("headers", {})}
    assert {"GET /products/{product_id}", "PATCH /products/{product_id}", "POST /products"} <= tagged
    assert "X-Pagination" in OPERATIONS["GET /groups"]["responses"]["200"]["headers"]


def _schemas_in(node):
    if isinstance(node, dict):
        if "enum" in node:
            yield node
        for value in node.values():
            yield from _schemas_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas_in(value)


def test_every_enum_is_typed_and_a_nullable_one_lists_null():
    enums = list(_schemas_in(SPEC))
    assert len(enums) > 10
    for schema in enums:
        assert schema.get("type") in {"string", "integer"}, schema
        assert (None in schema["enum"]) == bool(schema.get("nullable")), schema
    preferences = SPEC["components"]["schemas"]["User"]["properties"]["reminder_preferences"]
    assert preferences == {"type": "string", "enum": ["SMS", "EMAIL", "PUSH", None], "nullable": True}


def test_every_request_body_has_an_example_that_its_schema_validates():
    bodies = {key: op["requestBody"]["content"]["application/json"] for key, op in OPERATIONS.items()
              if "requestBody" in op}
    assert len(bodies) > 20
    for key, body in bodies.items():
        if key in AWAITING_EXAMPLES:
            assert "example" not in body, f"{key} has an example now: take it off AWAITING_EXAMPLES"
            continue
        assert "example" in body, key
        errors = [error.message for error in _validator(body["schema"]).iter_errors(body["example"])]
        assert errors == [], (key, errors)


def test_every_example_is_a_body_the_api_accepts():
    """Schema-level EXAMPLEs (web.Blueprint.arguments documents them) load through their marshmallow schema."""
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    examples = {cls: cls.EXAMPLE for cls in subclasses(ma.Schema) if "EXAMPLE" in vars(cls)}
    assert len(examples) >= 14
    for cls, example in examples.items():
        cls().load(example)


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(st.from_regex(BUDGET_PATTERN, fullmatch=True))
def test_a_budget_the_spec_admits_is_one_the_api_accepts(text):
    """The spec's constraints are the API's (schemathesis: no "schema validation mismatch" from budgets)."""
    loaded = EventCreateSchema().load({**EventCreateSchema.EXAMPLE, "budget": text, "is_budget": text != ""})
    assert (loaded["budget"] is None) == (text == "")


def test_every_envelope_requires_status():
    envelopes = {name: schema for name, schema in SPEC["components"]["schemas"].items() if name.endswith("Envelope")}
    assert "ErrorEnvelope" in envelopes and len(envelopes) > 20
    for name, schema in envelopes.items():
        assert {"status", "data"} <= set(schema["required"]), name
    assert set(SPEC["components"]["schemas"]["Status"]["required"]) == {"code", "message"}


def test_servers_are_declared():
    assert [server["url"] for server in SPEC["servers"]] == ["http://127.0.0.1:5000", "https://api.torium.example"]


def test_an_undocumented_error_response_of_the_app_is_still_the_envelope(client, user):
    """What `default` promises: any other status (here 405) is the same envelope."""
    response = client.delete("/organizations", headers=user[1])
    assert response.status_code == 405
    errors = list(_validator({"$ref": "#/components/schemas/ErrorEnvelope"}).iter_errors(response.get_json()))
    assert errors == [] and response.headers["X-Request-ID"]


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_swagger_ui_is_served_by_the_app_from_the_pinned_package(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "cdn." not in html and "://" not in html
    parser = _Assets()
    parser.feed(html)
    types = {".css": "text/css", ".js": "text/javascript"}
    assert sorted(parser.urls) == ["/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui-standalone-preset.js",
                                   "/docs/static/swagger-ui.css"]
    for url in parser.urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.mimetype == types[Path(url).suffix], (url, asset.mimetype)
        assert len(asset.get_data()) > 1000 and "max-age=86400" in asset.headers["Cache-Control"]
    assert "/openapi.json" in html and client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("url", ["/docs/static/index.html", "/docs/static/..%2Fconfig.py", "/docs/static/nothing.js"])
def test_only_swagger_uis_own_files_are_served(client, url):
    assert client.get(url).status_code == 404
