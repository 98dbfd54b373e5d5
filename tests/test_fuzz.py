"""Fuzzing with schemathesis: generated requests for every operation of the spec, against the live app.

Deterministic and bounded in `make test` (FUZZ_EXAMPLES, default 8 per operation); `make fuzz` runs
more, and also the stateful phase (FUZZ_STATEFUL=1): scenarios that follow the spec's links (web.LINKS),
e.g. POST /groups -> POST /event with its group id in trm-group-id -> POST /event/comment on that event.
Every response must be no 5xx, a documented status and content type, headers and body matching
the spec. Schemathesis also expects every schema-valid request to be accepted; the operations below
are exempt from that one check only, because their 422s are business rules a JSON schema cannot state.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (
    ensure_resource_availability,
    positive_data_acceptance,
    use_after_free,
)
from sqlalchemy import Integer, text

from tests.factories import KEEP_TABLES
from torium_api.extensions import db, limiter
from torium_api.openapi import LINKS

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
STATEFUL = os.environ.get("FUZZ_STATEFUL") == "1"
BUSINESS_RULE_422 = {
    "PATCH /users/mobile": "the code must be the one the SMS carried",
    "PATCH /users/preferences": "SMS needs a verified mobile number first",
    "PATCH /products/{product_id}": "If-Match must be the product's current ETag (412 otherwise)",
    "DELETE /products/{product_id}": "If-Match, when sent, must be the product's current ETag (412 otherwise)",
    "PATCH /users/organization": "the id must name an existing organization",
    "POST /event": "a budgeted event needs a budget; members must belong to the group",
    "PUT /event": "a budgeted event needs a budget; members must belong to the group; the event stays in its group",
    "POST /orders": "products must exist and be listed; Idempotency-Key reuse with another body",
    "POST /products": "Idempotency-Key reuse with another body",
    "POST /products/{product_id}/restock": "the stock after restocking may not exceed MAX_STOCK",
    "POST /accounts/me/deposits": "Idempotency-Key reuse with another body",
    "POST /accounts/me/withdrawals": "Idempotency-Key reuse with another body",
    "GET /products": "a cursor must be one the listing issued",
    "GET /orders": "a cursor must be one the listing issued",
    "GET /admin/orders": "a cursor must be one the listing issued",
    "GET /accounts": "a cursor must be one the listing issued",
    "GET /accounts/me/transactions": "a cursor must be one the listing issued",
    "GET /notifications": "a cursor must be one the listing issued",
    "GET /accounts/me/payouts": "a cursor must be one the listing issued",
    "GET /sellers/me/sales": "a cursor must be one the listing issued",
    "GET /sellers/me/sales/totals": "since before until, and at most 366 days or 120 months at once",
}

# A deleted product is soft-deleted: its seller and admins still read (and restore) it, with "deleted": true.
SOFT_DELETED = {"/products/{product_id}", "/products/{product_id}/restock", "/products/{product_id}/image-upload-url"}
# The contract's routes that take the id in the body. A link's body is sometimes left out on purpose (to vary the
# input), and schemathesis' "created resource not found" check counts a link as applied when the operation has no
# parameters: a random id's 404 would read as the created event being gone.
ID_IN_BODY = {"PUT /groups", "PUT /event", "POST /event/notify", "POST /event/comment", "PUT /event/comment"}


@pytest.fixture
def fuzz_headers(tokens, client):
    """A real token for a user who is a seller, so seller routes are reachable too."""
    headers = tokens.headers("fuzzer@example.com", groups=["seller"])
    client.get("/users", headers=headers)
    return headers


def _with_bearer(schema, fuzz_headers):
    """The fuzzer's token as the schema's bearer auth. Added by hand to each call instead, it would also replace
    the Authorization header a negative case leaves out or garbles, and the then valid request would read as
    "schema-violating request accepted"; schemathesis' ignored_auth check probes missing and bad tokens."""
    token = fuzz_headers["Authorization"].removeprefix("Bearer ")

    @schema.auth()
    class Bearer:
        def get(self, case, context):
            return token

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema


@pytest.fixture
def api_schema(app, fuzz_headers):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    # U+0000 is refused everywhere by design (PostgreSQL cannot store it): tested on its own below.
    schema.config.generation.update(allow_x00=False)
    return _with_bearer(schema, fuzz_headers)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_spec(case):
    operation = f"{case.method.upper()} {case.path}"
    excluded = [positive_data_acceptance] if operation in BUSINESS_RULE_422 else []
    case.call_and_validate(excluded_checks=excluded)


def test_nul_characters_are_refused_not_a_server_error(client, user):
    response = client.patch("/users/device", headers=user[1], json={"device_token": "abc\u0000def"})
    assert response.status_code == 422
    for query in ("q=a%00b", "q=%00", "category=ski&q=a\x00b", "a%00=1"):  # escaped, raw (as a server may pass it)
        refused = client.get("/products", headers=user[1], environ_overrides={"QUERY_STRING": query})
        assert refused.status_code == 422, query


def _start_afresh(app):
    """Each scenario starts from the same empty database (ids from 1) and rate limits: what a step generates may
    depend on earlier responses, and hypothesis requires the same choices to draw the same kinds of values.
    DELETE and setval, not TRUNCATE: a few rows each time, and TRUNCATE costs ~0.3 s per scenario."""
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with app.app_context():
        db.session.remove()
        for table in tables:
            db.session.execute(table.delete())
        serial = [t.name for t in tables if "id" in t.c and isinstance(t.c.id.type, Integer)]
        db.session.execute(text("SELECT setval(pg_get_serial_sequence(t, 'id'), 1, false) FROM unnest(:tables) AS t"),
                           {"tables": serial})
        db.session.commit()
    limiter.reset()


@pytest.fixture
def linked_schema(app, fuzz_headers):
    """The schema with the fuzzer's token as its bearer auth: schemathesis' ignored_auth check then also probes
    each linked operation without it (a header added by hand would be put back on those probes)."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    # Valid data, so workflows get past their first step (the test above sends the invalid data).
    schema.config.generation.update(allow_x00=False, modes=[schemathesis.GenerationMode.POSITIVE])
    schema.config.phases.stateful.inference.algorithms = []  # follow the spec's links only
    return _with_bearer(schema, fuzz_headers)


# The chains the spec's links are for (openapi.LINKS): each must be followed, with a success, in a full run.
CHAINS = {"POST /groups -> [200] ListMembers", "POST /groups -> [200] UpdateGroup", "POST /groups -> [200] CreateEvent",
          "POST /event -> [200] ListComments", "POST /event -> [200] PostComment", "POST /products -> [201] GetProduct",
          "POST /products -> [201] UpdateProduct", "POST /orders -> [202] GetOrder"}


@pytest.mark.skipif(not STATEFUL, reason="the stateful phase runs in `make fuzz` (FUZZ_STATEFUL=1)")
def test_linked_workflows_keep_every_response_in_the_spec(app, linked_schema):
    followed = set()

    class Workflow(linked_schema.as_state_machine()):
        def setup(self):
            _start_afresh(app)

        def before_call(self, case):
            # A link copies a JSON number into a header as an int; HTTP headers are text.
            case.headers = {name: value if isinstance(value, str | bytes) else str(value)
                            for name, value in (case.headers or {}).items()}

        def step(self, input):
            output = super().step(input)
            if input.transition is not None and input.is_applied and output.response.status_code < 300:
                followed.add(input.transition.id.rsplit(" -> ", 1)[0])
            return output

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            excluded = [positive_data_acceptance] if f"{case.method.upper()} {case.path}" in BUSINESS_RULE_422 else []
            excluded += [use_after_free] if case.path in SOFT_DELETED else []
            excluded += [ensure_resource_availability] if f"{case.method.upper()} {case.path}" in ID_IN_BODY else []
            case.validate_response(response, additional_checks=additional_checks, excluded_checks=excluded,
                                   transport_kwargs=kwargs or None, recorder=self.recorder)

    Workflow.run(settings=settings(max_examples=EXAMPLES, stateful_step_count=10, deadline=None, derandomize=True,
                                   database=None, suppress_health_check=list(HealthCheck)))
    if EXAMPLES >= 100:  # a short run may not get that far
        assert followed >= CHAINS, f"links never followed to a success: {sorted(CHAINS - followed)}"


def test_every_link_names_an_operation_and_parameters_it_has(app):
    """Checked in `make test` too: schemathesis only checks links when it builds the state machine."""
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    operations = {op["operationId"]: (path, method) for path, ops in spec["paths"].items()
                  for method, op in ops.items() if method != "parameters"}
    for (path, method), by_status in LINKS.items():
        for status, links in by_status.items():
            assert spec["paths"][path][method]["responses"][str(status)]["links"] == links
            for name, link in links.items():
                _check_link(spec, operations, name, link)


def _check_link(spec, operations, name, link):
    target_path, target_method = operations[link["operationId"]]
    operation = spec["paths"][target_path][target_method]
    parameters = spec["paths"][target_path].get("parameters", []) + operation.get("parameters", [])
    declared = {f"{p['in']}.{p['name']}" for p in parameters}
    assert set(link.get("parameters", {})) <= declared, name
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    fields = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["properties"] if body else {}
    assert set(link.get("requestBody", {})) <= set(fields), name
