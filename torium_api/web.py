"""The web layer shared by every blueprint: the success envelope and its documentation.

Views return plain data. ``Blueprint.response`` dumps it through the view's schema
and wraps it as ``{"status": {"code": <HTTP status>, "message": "Success"}, "data": ...}``
(the shape the Flutter client reads); the generated spec documents the same shape.
Errors get the matching envelope from ``errors.py``.
"""

import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from itertools import accumulate

import flask_smorest
import flask_smorest.pagination
import marshmallow as ma
from flask import current_app, request
from flask_smorest.utils import unpack_tuple_response
from webargs.flaskparser import FlaskParser

from torium_api import errors, openapi, paging
from torium_api.fields import RenderedList


class StatusSchema(ma.Schema):
    code = ma.fields.Integer(required=True)
    message = ma.fields.String(required=True)


class ErrorEnvelopeSchema(ma.Schema):
    status = ma.fields.Nested(StatusSchema, required=True)
    data = ma.fields.Raw(allow_none=True, required=True, metadata={"type": "object", "nullable": True})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        metadata={"description": "Field errors (422 only)"},
    )


MAX_PAGE = 100_000
PAGINATION_QUERY_NAMES = frozenset({"page", "page_size", "user_id"})  # user_id: the old app's, checked in auth.py
_smorest_page_schema = flask_smorest.pagination._pagination_parameters_schema_factory


def _bounded_page_schema(def_page, def_page_size, def_max_page_size):
    """flask-smorest leaves `page` unbounded and page × page_size overflows PostgreSQL's OFFSET (found by
    fuzzing: a 500). It builds this schema through a module-level factory at decoration time; wrapping
    that factory bounds `page` in validation and in the spec alike. It returns an instance: given the class,
    webargs would build a new schema (fields deep-copied) on every request of every paged list."""
    base = _smorest_page_schema(def_page, def_page_size, def_max_page_size)
    page = ma.fields.Integer(load_default=def_page, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    return type(base.__name__, (base,), {"page": page})()


flask_smorest.pagination._pagination_parameters_schema_factory = _bounded_page_schema


class Envelope:
    """What a wrapped view returns before the envelope schema dumps it."""

    def __init__(self, data, code: int):
        self.data = data
        self.status = {"code": code, "message": "Success"}


class _EnvelopeSchema(ma.Schema):
    """Dumps an ``Envelope``: its status as it is (two plain values), its data through the ``data`` field.
    marshmallow's own pass over the envelope (and a nested StatusSchema) cost every response ~150 Python calls
    for two constants; the data still goes through the view's schema."""

    def dump(self, obj: Envelope, *, many=None):
        return {"status": obj.status, "data": self.fields["data"].serialize("data", obj, self.get_attribute)}


_ENVELOPES: dict[tuple, type[ma.Schema]] = {}


def envelope_schema(schema) -> type[ma.Schema]:
    """One named envelope schema per (response schema, many) pair, so the spec stays tidy."""
    if schema is None:
        key, name = (None, False), "EmptyEnvelope"
        data = ma.fields.Raw(allow_none=True, required=True, metadata={"type": "object", "nullable": True})
    else:
        instance = schema() if isinstance(schema, type) else schema
        base = type(instance).__name__.removesuffix("Schema")
        key = (type(instance), instance.many)
        name = f"{base}ListEnvelope" if instance.many else f"{base}Envelope"
        nested = ma.fields.Nested(type(instance), required=True)
        if instance.many:
            # A list its service renders as plain dicts of exactly the schema's fields (RenderedList) is sent as
            # it is: marshmallow would copy every field of every row again (1,200 fields for a page of events).
            listing = RenderedList if getattr(instance, "RENDERED_BY_SERVICE", False) else ma.fields.List
            data = listing(nested, required=True)
        else:
            data = nested
    if key not in _ENVELOPES:
        _ENVELOPES[key] = type(name, (_EnvelopeSchema,), {
            "status": ma.fields.Nested(StatusSchema, required=True), "data": data})
    return _ENVELOPES[key]


_PAGES: dict[type, type[ma.Schema]] = {}


def cursor_page_schema(item_schema: type[ma.Schema], name: str | None = None,
                       **next_cursor_metadata) -> type[ma.Schema]:
    """``<Item>PageSchema``: one keyset page of ``item_schema`` (made once per item schema)."""
    if item_schema not in _PAGES:
        name = (name or item_schema.__name__.removesuffix("Schema")) + "PageSchema"
        listing = RenderedList if getattr(item_schema, "RENDERED_BY_SERVICE", False) else ma.fields.List
        _PAGES[item_schema] = type(name, (ma.Schema,), {
            "items": listing(ma.fields.Nested(item_schema), required=True),
            "next_cursor": ma.fields.String(required=True, allow_none=True, metadata=next_cursor_metadata),
        })
    return _PAGES[item_schema]


class _Parser(FlaskParser):
    """Query strings obey their schema's `unknown` (RAISE unless a schema says otherwise), like bodies do;
    webargs' default silently drops unknown query parameters. Headers still ignore the ones a view does not
    declare (clients and proxies add many).

    A query parameter sent twice (``?limit=1&limit=2``) is a 422 unless its field takes a list: webargs would
    silently use the first. A body ``json.loads`` cannot read for reasons webargs does not catch (an integer
    of more than 4,300 digits: ValueError; nesting past the recursion limit: RecursionError) is the same 400
    as any other invalid JSON."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}

    def load_querystring(self, req, schema):
        proxy = super().load_querystring(req, schema)
        repeated = sorted(name for name, values in req.args.lists()
                          if len(values) > 1 and name not in proxy.multiple_keys)
        if repeated:
            raise errors.Invalid("Query parameters may be sent once",
                                 errors={name or "(empty)": ["Sent more than once."] for name in repeated})
        return proxy

    def load_json(self, req, schema):
        try:
            return super().load_json(req, schema)
        except (ValueError, RecursionError) as exc:
            return self._handle_invalid_json_error(exc, req)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()
    PAGINATION_ARGUMENTS_PARSER = _Parser()  # `page` and `page_size` may be sent once too

    def response(self, status_code, schema=None, **kwargs):
        outer = super().response(status_code, envelope_schema(schema), **kwargs)

        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kw):
                result, code, headers = unpack_tuple_response(func(*args, **kw))
                return Envelope(result, code or int(status_code)), code, headers

            return outer(wrapper)

        return decorator

    def cursor_page(self, item_schema, *, name: str | None = None, **next_cursor_metadata):
        """Declare a keyset-paged list in one line: the view returns a ``paging.CursorPage`` of ``item_schema``
        items, documented and sent as ``{"items": [...], "next_cursor": ...}`` (``<name or Item>Page`` in the
        spec)."""
        return self.response(200, cursor_page_schema(item_schema, name=name, **next_cursor_metadata))

    def paginate(self, *args, **kwargs):
        """flask-smorest's pagination ignores unknown query parameters; like every other list, refuse them."""
        paginated = super().paginate(*args, **kwargs)

        def decorator(func):
            inner = paginated(func)

            @wraps(inner)
            def checked(*a, **kw):
                unknown = set(request.args) - PAGINATION_QUERY_NAMES
                if unknown:
                    raise errors.Invalid("Unknown query parameters",
                                         errors={name or "(empty)": ["Unknown field."] for name in sorted(unknown)})
                return inner(*a, **kw)

            return checked

        return decorator

    @staticmethod
    def _make_pagination_metadata(page, page_size, item_count):
        """flask-smorest's X-Pagination content, without its per-request schema: dumping seven integers through a
        new PaginationMetadataSchema cost every paged list a schema's construction."""
        if item_count == 0:
            return {"total": 0, "total_pages": 0}
        last_page = (item_count - 1) // page_size + 1
        metadata = {"total": item_count, "total_pages": last_page, "first_page": 1, "last_page": last_page}
        if page <= last_page:
            metadata["page"] = page
            if page > 1:
                metadata["previous_page"] = page - 1
            if page < last_page:
                metadata["next_page"] = page + 1
        return metadata

    def _document_pagination_metadata(self, spec, resp_doc):
        """X-Pagination carries JSON *text*: document it as the string it is (openapi.HEADERS)."""
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = "X-Pagination"

    def arguments(self, schema, *, example=None, **kwargs):
        """A request body's example is its schema's ``EXAMPLE`` (a complete body the schema loads)."""
        if example is None and kwargs.get("location", "json") == "json":
            example = getattr(schema, "EXAMPLE", None)
        return super().arguments(schema, example=example, **kwargs)

    def conditional(self, *, vary: Callable[[], str] | None = None, digest: Callable[[], str] | None = None):
        """A conditional GET (put it above the view's other decorators): a 200 carries a weak ETag, and a request
        whose If-None-Match names it is answered 304 with no body, without the page being rendered.

        The tag is the digest PostgreSQL computes of the page the view reads (``paging``: on the page's own
        statement, after the view's checks), or, for a list no pager reads, ``digest()``; plus ``vary()``, what
        else shapes the rendering (e.g. the caller's time zone), and ``ETAG_VERSION``."""

        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kw):
                held = request.if_none_match
                varied = f"{ETAG_VERSION} {vary() if vary else ''}"

                def holds(page_digest: str) -> bool:
                    return held.contains_weak(_weak_tag(varied, page_digest))

                if digest is not None:
                    page_digest = digest()
                    if held and holds(page_digest):
                        return _not_modified(_weak_tag(varied, page_digest))
                    response = func(*args, **kw)
                else:
                    try:
                        with paging.revalidating(holds if held else None) as state:
                            response = func(*args, **kw)
                    except paging.NotModified as unchanged:
                        return _not_modified(_weak_tag(varied, unchanged.digest))
                    if state.pending:
                        raise RuntimeError(f"{func.__qualname__}: its page's digest waits for paging.add_to_digest")
                    page_digest = state.digest
                if page_digest is not None and response.status_code == 200:
                    response.set_etag(_weak_tag(varied, page_digest), weak=True)
                return response

            return self.alt_response(304, description="Not Modified: the If-None-Match tag is current (no body)")(
                wrapper)

        return decorator


# Part of every list's ETag: bump it when a list renders differently from the same rows (a field added, a format
# changed), so that no client keeps a page in the old shape.
ETAG_VERSION = "1"


def _weak_tag(varied: str, page_digest: str) -> str:
    """The opaque value of a list's weak ETag (werkzeug adds W/ and the quotes)."""
    return hashlib.blake2b(f"{varied} {page_digest}".encode(), digest_size=16).hexdigest()


def _not_modified(tag: str):
    response = current_app.response_class(status=304)
    response.set_etag(tag, weak=True)
    return response


class Api(flask_smorest.Api):
    """flask-smorest's Api with the error envelope, and ``openapi.OperationsPlugin`` building the spec."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def __init__(self, app=None, *, spec_kwargs=None, **kwargs):
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), openapi.OperationsPlugin(openapi.LINKS)]
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def _init_spec(self, *args, **kwargs):
        super()._init_spec(*args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(openapi.typed_enum)

    def _register_responses(self):
        """flask-smorest's shared responses (one per HTTP status, referenced by name), with their headers."""
        super()._register_responses()
        lazy = self.spec.components.responses_lazy
        for name, response in lazy.items():
            code = HTTPStatus[name].value if name in HTTPStatus.__members__ else 500
            response["headers"] = {header: {"$ref": f"#/components/headers/{header}"}
                                   for header in openapi.error_headers(code)}

    def _register_error_handlers(self):
        errors.register_error_handlers(self._app)

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)


MAX_JSON_DEPTH = 32  # the API's deepest body (an order: lines, a line) has 3 levels
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(set(range(256)) - set(b"[]{}"))
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _nul_in(query_string: bytes) -> bool:
    """A NUL reaches request.args only as %00 or as the raw byte (cheaper than decoding every value to look)."""
    return b"%00" in query_string or b"\x00" in query_string


def reject_nul_characters():
    """Before anything reads a body (auth, ``Idempotency-Key``, webargs), refuse what PostgreSQL cannot store or
    no parser should walk, as a 4xx and never a 500:

    - U+0000, in text or JSONB, and in the query string: 422;
    - lone surrogates (``"\\ud800"`` is valid JSON, but not UTF-8 text PostgreSQL can store): 422;
    - JSON nested deeper than ``MAX_JSON_DEPTH``: 400 (past about 1,000 levels ``json.loads`` raises
      RecursionError, which Flask's ``get_json`` does not catch).
    """
    body = request.get_data(cache=True)  # also a chunked body (no Content-Length); MAX_CONTENT_LENGTH bounds it
    if b"\x00" in body or b"\\u0000" in body or _nul_in(request.query_string):
        raise errors.Invalid("Text may not contain NUL characters", errors={"body": ["NUL character (U+0000)."]})
    if _json_depth(body) > MAX_JSON_DEPTH:
        raise errors.BadRequest(errors={"json": [f"Nested deeper than {MAX_JSON_DEPTH} levels."]})
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(body):
        raise errors.Invalid("Text must be valid Unicode",
                             errors={"body": ["Lone surrogate (\\ud800-\\udfff without its pair)."]})


def _json_depth(body: bytes) -> int:
    """How deep the brackets of a JSON text nest, outside its strings (cheap: most bodies have few brackets)."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_A_BRACKET)
    return max(accumulate(1 if b in b"[{" else -1 for b in brackets), default=0)


def _has_lone_surrogate(body: bytes) -> bool:
    """A pair decodes to one character; a lone half stays a surrogate, which UTF-8 cannot encode."""
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    except (ValueError, RecursionError):
        return False  # not JSON: the parser answers 400 when a view reads it
    return False
