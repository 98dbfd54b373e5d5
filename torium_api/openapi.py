"""What every operation of the generated spec gets without each view writing it, and the spec's links.

``OperationsPlugin`` (an apispec plugin; ``web.Api`` installs it) sees each operation as flask-smorest
registers it, with its Flask rule, and adds:

- an ``operationId``: ``<verb><View>`` from the HTTP method and the view class (``listGroups``,
  ``createGroup``, ``getProduct``; see ``operation_id``), unless ``@blp.doc(operationId=...)`` gave one.
  Two operations with one id stop the app from starting (a client generator would silently drop one);
- the error responses any request can meet, in the error envelope: 401 and 403 on every secured
  operation (no or a bad token; a disabled account or a legacy identity header naming someone else),
  422 everywhere (``web.reject_nul_characters`` refuses NUL in any query string), 400 and 413 wherever a
  body is read, 404 wherever the path names a row, 503 everywhere (``errors.handle_database_unavailable``:
  any request can meet a database outage, and auth a JWKS one);
- the error envelope and its headers on error responses a view documented with a description only;
- response headers: ``X-Request-ID`` on every response, ``WWW-Authenticate`` on 401, ``Retry-After`` on
  429 and 503, ``Idempotent-Replayed`` on the successes of operations taking ``Idempotency-Key``,
  ``Location`` on a POST's 201/202 when the collection's items have a URL of their own, ``ETag`` (and the
  ``If-None-Match`` parameter) on conditional GETs (those documenting 304, ``web.Blueprint.conditional``);
- the ``LINKS`` below.

``typed_enum`` (a marshmallow field converter function) gives every enum its type, and puts ``null`` in
the enum of a nullable one (OpenAPI 3.0.3: ``nullable`` does not add ``null`` to an ``enum``).
"""

import re

import flask
from apispec import BasePlugin
from swagger_ui_bundle import swagger_ui_path

ERROR_ENVELOPE = "ErrorEnvelope"
# components.headers, referenced by name.
HEADERS = {
    "X-Request-ID": {"description": "The request's id, in every log line about it: the client's X-Request-ID "
                                    "when it is 8-64 letters, digits or dashes, else a new UUID",
                     "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 64}},
    "WWW-Authenticate": {"description": "How to authenticate: a Cognito access token as a bearer token",
                         "required": True, "schema": {"type": "string", "example": 'Bearer realm="torium"'}},
    "Retry-After": {"description": "Seconds to wait before trying again",
                    "schema": {"type": "integer", "minimum": 0}},
    "ETag": {"description": "The representation's tag: send it back in If-None-Match (lists: weak, W/\"…\") "
                            "or If-Match (a product)", "schema": {"type": "string"}},
    "Location": {"description": "The URL of what was created", "required": True,
                 "schema": {"type": "string", "format": "uri-reference"}},
    "Idempotent-Replayed": {"description": "Present when this is the stored response to an earlier request "
                                           "with the same Idempotency-Key",
                            "schema": {"type": "string", "enum": ["true"]}},
    "X-Pagination": {"description": "JSON text: total, total_pages, first_page, last_page, page, previous_page, "
                                    "next_page", "schema": {"type": "string"}},
}
IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
                 "description": "The ETag of the page you hold: 304 with no body while it is current"}
# Shared error responses: (component name, which operations get it).
_VERBS = {"get": "get", "post": "create", "put": "update", "patch": "update", "delete": "delete"}
_LIST_ENVELOPE = re.compile(r"(ListEnvelope|PageEnvelope)$")


def operation_id(method: str, view: str, is_list: bool) -> str:
    """``<verb><View>``: GET of a list → ``list<View>``; GET → ``get``; POST → ``create``; PUT and PATCH →
    ``update``; DELETE → ``delete``. ``…ById`` drops its suffix (``ProductById`` → ``getProduct``); POST, PUT
    and DELETE act on one item of a plural view (``Groups`` → ``createGroup``)."""
    name = view.removesuffix("ById")
    if method == "get" and is_list:
        return "list" + name
    if method in ("post", "put", "delete"):
        name = _singular(name)
    return _VERBS[method] + name


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def _code(status) -> int | None:
    return int(status) if str(status).isdigit() else None


class OperationsPlugin(BasePlugin):
    """See the module's docstring."""

    def __init__(self, links: dict):
        super().__init__()
        self.links = links

    def init_spec(self, spec):
        super().init_spec(spec)
        self.spec, self.operation_ids = spec, {}
        for name, header in HEADERS.items():
            spec.components.header(name, header)

    def operation_helper(self, path=None, operations=None, rule=None, **kwargs):
        for method, operation in operations.items():
            self._name(path, method, operation, rule)
            secured = operation.get("security", self.spec.options.get("security", [])) != []
            self._add_errors(path, operation, secured)
            self._add_headers(method, operation, rule)
            for status, named in self.links.get((path, method), {}).items():
                if not isinstance(_response(operation, status), dict):
                    raise ValueError(f"LINKS: {method.upper()} {path} documents no {status} response")
                _response(operation, status)["links"] = named
            operation["responses"] = dict(sorted(operation["responses"].items(),
                                                 key=lambda item: (_code(item[0]) or 1000, str(item[0]))))

    def _name(self, path: str, method: str, operation: dict, rule) -> None:
        if "operationId" not in operation:
            success = _response(operation, 200) or {}
            ref = success.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
            operation["operationId"] = operation_id(method, rule.endpoint.rsplit(".", 1)[-1],
                                                    bool(_LIST_ENVELOPE.search(ref)))
        where = f"{method.upper()} {path}"
        first = self.operation_ids.setdefault(operation["operationId"], where)
        if first != where:
            raise ValueError(f"operationId {operation['operationId']!r} of {where} is also {first}'s: "
                             "rename a view or give one @blp.doc(operationId=...)")

    def _add_errors(self, path: str, operation: dict, secured: bool) -> None:
        responses = operation.setdefault("responses", {})
        shared = [(422, "UNPROCESSABLE_ENTITY"), (503, "SERVICE_UNAVAILABLE")]
        if secured:
            shared += [(401, "UNAUTHORIZED"), (403, "FORBIDDEN")]
        if "requestBody" in operation:
            shared += [(400, "BAD_REQUEST"), (413, "REQUEST_ENTITY_TOO_LARGE")]
        if "{" in path:
            shared.append((404, "NOT_FOUND"))
        for status, component in shared:
            if _response(operation, status) is None:
                responses[status] = component
        for status, response in responses.items():
            code = _code(status)
            if code is not None and code >= 400 and isinstance(response, dict):
                response.setdefault("content", {"application/json": {"schema": ERROR_ENVELOPE}})
                response.setdefault("headers", {}).update(error_headers(code))

    def _add_headers(self, method: str, operation: dict, rule) -> None:
        names = {(p.get("in"), p.get("name")) for p in operation.get("parameters", []) if isinstance(p, dict)}
        conditional = _response(operation, 304) is not None
        if conditional:
            operation.setdefault("parameters", []).append(IF_NONE_MATCH)
        for status, response in operation["responses"].items():
            code = _code(status)
            if not isinstance(response, dict) or code is None or code >= 400:
                continue
            headers = response.setdefault("headers", {})
            headers["X-Request-ID"] = "X-Request-ID"
            if conditional and code in (200, 304):
                headers["ETag"] = "ETag"
            if 200 <= code < 300 and ("header", "Idempotency-Key") in names:
                headers["Idempotent-Replayed"] = "Idempotent-Replayed"
            if method == "post" and code in (201, 202) and _has_item_route(rule):
                headers["Location"] = "Location"


def error_headers(code: int) -> dict:
    headers = {"X-Request-ID": "X-Request-ID"}
    if code == 401:
        headers["WWW-Authenticate"] = "WWW-Authenticate"
    if code in (429, 503):
        headers["Retry-After"] = "Retry-After"
    return headers


def _response(operation: dict, status: int) -> dict | str | None:
    responses = operation.get("responses", {})
    return responses.get(status, responses.get(str(status)))


def _has_item_route(rule) -> bool:
    """Whether ``<collection>/<id>`` answers GET: then what a POST to the collection creates has a URL."""
    prefix = rule.rule.rstrip("/") + "/<"
    return any(other.rule.startswith(prefix) and other.rule.count("/") == rule.rule.count("/") + 1
               and "GET" in other.methods for other in rule.map.iter_rules())


def typed_enum(self, field, ret, **kwargs) -> dict:
    """A marshmallow field converter function (``OpenAPIConverter.add_attribute_function``): an ``enum``
    gets the ``type`` of its values, and a nullable one lists ``null`` too."""
    if "enum" not in ret:
        return {}
    values = [value for value in ret["enum"] if value is not None]
    extra = {}
    if "type" not in ret:
        kinds = {bool: "boolean", int: "integer", float: "number", str: "string"}
        types = {kinds.get(type(value)) for value in values}
        if len(types) != 1 or None in types:
            raise ValueError(f"enum {ret['enum']!r} of {field!r}: values of one JSON type, please")
        extra["type"] = types.pop()
    if ret.get("nullable") and None not in ret["enum"]:
        extra["enum"] = [*ret["enum"], None]
    return extra


SWAGGER_UI_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                              "favicon-32x32.png", "favicon-16x16.png"})


def swagger_ui_assets() -> flask.Blueprint:
    """``/docs/static/<file>``: the files ``/docs`` loads (``OPENAPI_SWAGGER_UI_URL``), from the pinned
    swagger-ui-bundle package: the page loads nothing from another site. Public (auth.PUBLIC_ENDPOINTS)."""
    assets = flask.Blueprint("swagger-ui", __name__)

    @assets.get("/docs/static/<name>")
    def static(name: str):
        if name not in SWAGGER_UI_FILES:
            flask.abort(404)
        return flask.send_from_directory(swagger_ui_path, name, max_age=86400)  # the package's version pins them

    return assets


# --- links -----------------------------------------------------------------------------------------

ID, GROUP_ID = "$response.body#/data/id", "$response.body#/data/group_id"  # inside the success envelope
# OpenAPI links: what a response's values can be used for next (client generators, and schemathesis' stateful
# phase in `make fuzz`, which follows them), by (path, method) and status of the response carrying the value.
# A request body given here is merged into the generated one (a schemathesis extension for the contract's ids in
# bodies). tests/test_fuzz.py checks each names an operation and parameters that exist.
LINKS = {
    ("/groups", "post"): {200: {
        "ListMembers": {"operationId": "listMembers", "parameters": {"header.trm-group-id": GROUP_ID}},
        "InviteMember": {"operationId": "inviteMember", "parameters": {"header.trm-group-id": GROUP_ID}},
        "UpdateGroup": {"operationId": "updateGroup", "requestBody": {"id": GROUP_ID}},
        "CreateEvent": {"operationId": "createEvent", "parameters": {"header.trm-group-id": GROUP_ID}},
        "ListGroupEvents": {"operationId": "listEvents", "parameters": {"header.trm-group-id": GROUP_ID}},
    }},
    ("/event", "post"): {200: {
        "ListComments": {"operationId": "listComments", "parameters": {"header.trm-event-id": ID}},
        "PostComment": {"operationId": "createComment", "requestBody": {"event_id": ID}},
        "UpdateEvent": {"operationId": "updateEvent", "requestBody": {"id": ID}},
        "NotifyMembers": {"operationId": "notifyEventMembers", "requestBody": {"event_id": ID}},
    }},
    ("/event/comment", "post"): {200: {
        "UpdateComment": {"operationId": "updateComment",
                          "requestBody": {"id": "$response.body#/data/events_comments_id/0"}},
    }},
    ("/products", "post"): {201: {
        "GetProduct": {"operationId": "getProduct", "parameters": {"path.product_id": ID}},
        "UpdateProduct": {"operationId": "updateProduct",
                          "parameters": {"path.product_id": ID, "header.If-Match": "$response.header.ETag"}},
        "RestockProduct": {"operationId": "restockProduct", "parameters": {"path.product_id": ID}},
        "DeleteProduct": {"operationId": "deleteProduct", "parameters": {"path.product_id": ID}},
        "OrderProduct": {"operationId": "createOrder",
                         "requestBody": {"lines": [{"product_id": ID, "quantity": 1}]}},
    }},
    ("/orders", "post"): {202: {
        "GetOrder": {"operationId": "getOrder", "parameters": {"path.order_id": ID}},
        "CancelOrder": {"operationId": "cancelOrder", "parameters": {"path.order_id": ID}},
    }},
}
