"""App-wide guarantees: default-deny auth, the envelope, the spec file, the migrations."""

import json
import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import EVENT, data_of, make_group
from torium_api import create_app
from torium_api.auth import PUBLIC_ENDPOINTS
from torium_api.events.schemas import EventSchema, EventUserSchema
from torium_api.extensions import db
from torium_api.groups.schemas import GroupSchema, MemberSchema
from torium_api.web import Blueprint

ROOT = Path(__file__).resolve().parent.parent


def _concrete(rule) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", "1", rule.rule)


def test_every_route_but_the_allow_list_requires_a_token(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_concrete(rule), method=method, json={})
            assert response.status_code == 401, f"{method} {rule.rule} answered {response.status_code}"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert response.get_json() == {"status": {"code": 401, "message": "Authentication required"},
                                           "data": None}
            checked += 1
    assert checked >= 8


def test_public_endpoints_answer_without_a_token(client):
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


def test_health_reports_the_database(client):
    assert client.get("/health").get_json() == {"status": {"code": 200, "message": "Success"},
                                                "data": {"database": "ok"}}


def test_health_is_503_when_the_database_is_unreachable(test_config):
    broken = create_app({**test_config, "DATABASE_URL": "postgresql+psycopg2://nobody@127.0.0.1:1/none"})
    response = broken.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["status"] == {"code": 503, "message": "Database unreachable"}


def test_health_pings_in_autocommit_and_pools_only_healthy_transactional_connections(test_config, monkeypatch):
    """/health is one round trip (no BEGIN/ROLLBACK around SELECT 1); a connection that died under it is
    answered 503 and dropped, and no connection goes back to the pool in autocommit."""
    import psycopg2

    monkeypatch.setenv("DB_POOL_SIZE", "1")  # one pooled connection: the one /health used is the next one out
    monkeypatch.setenv("DB_MAX_OVERFLOW", "0")
    own = create_app(test_config)
    client = own.test_client()
    with own.app_context():
        db.engine.dispose()
        assert client.get("/health").status_code == 200
        pooled = db.engine.raw_connection()
        backend, autocommit = pooled.driver_connection.info.backend_pid, pooled.driver_connection.autocommit
        pooled.close()
        assert autocommit is False
        dsn = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        admin = psycopg2.connect(dsn)
        with admin, admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (backend,))
        admin.close()
        dropped = client.get("/health")
        assert dropped.status_code == 503, dropped.get_json()
        assert client.get("/health").status_code == 200  # a new connection
        pooled = db.engine.raw_connection()
        assert pooled.driver_connection.info.backend_pid != backend
        assert pooled.driver_connection.autocommit is False
        pooled.close()
        db.engine.dispose()


@pytest.mark.parametrize("scheme", ["postgresql://", "postgres://"])
def test_a_plain_postgresql_url_is_served_by_the_installed_driver(test_config, scheme):
    """What RDS and the README give is postgresql://...; SQLAlchemy 2.1 alone would pick psycopg 3."""
    url = test_config["DATABASE_URL"].replace("postgresql+psycopg2://", scheme, 1)
    app = create_app({**test_config, "DATABASE_URL": url})
    assert app.test_client().get("/health").status_code == 200
    with app.app_context():
        assert db.engine.dialect.driver == "psycopg2"


def test_unknown_route_is_404_in_the_envelope(client):
    response = client.get("/no/such/route")
    assert response.status_code == 404
    assert response.get_json() == {"status": {"code": 404, "message": "Not Found"}, "data": None}


def test_wrong_method_is_405_with_allow(client, user):
    _, headers = user
    response = client.delete("/users", headers=headers)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}
    assert response.get_json()["status"]["code"] == 405


def test_unexpected_error_is_a_generic_500(app, client, user, monkeypatch):
    from torium_api.organizations import services

    def explode():
        raise RuntimeError("SELECT secret FROM internals")

    monkeypatch.setattr(services, "list_organizations", explode)
    response = client.get("/organizations", headers=user[1])
    assert response.status_code == 500
    assert response.get_json() == {"status": {"code": 500, "message": "Internal server error"}, "data": None}
    assert "SELECT" not in response.get_data(as_text=True)


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/health", headers={"X-Request-ID": "abcdef12-3456"}).headers["X-Request-ID"] == "abcdef12-3456"
    generated = client.get("/health", headers={"X-Request-ID": "bad id!"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f-]{36}", generated)


def test_oversized_body_is_413(client, user):
    response = client.patch("/users/device", headers=user[1], json={"device_token": "x" * 70_000})
    assert response.status_code == 413
    assert response.get_json()["status"]["code"] == 413


def test_api_schema_file_is_current(app):
    committed = json.loads((ROOT / "api-schema.json").read_text())
    with app.test_request_context():
        generated = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    assert committed == json.loads(json.dumps(generated)), "api-schema.json is stale: run `make spec`"


def test_spec_declares_bearer_auth_and_the_envelope(app):
    spec = json.loads((ROOT / "api-schema.json").read_text())
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/health"]["get"]["security"] == []
    envelope = spec["components"]["schemas"]["UserEnvelope"]
    assert set(envelope["properties"]) == {"status", "data"}


def test_migrations_have_a_single_head(app):
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        assert len(script.get_heads()) == 1


def test_models_and_migrations_do_not_drift(app):
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_cors_preflight_is_answered_without_a_token(client):
    response = client.options("/users", headers={"Origin": "https://app.example",
                                                  "Access-Control-Request-Method": "GET"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in {"*", "https://app.example"}


def test_cors_lets_a_browser_read_the_headers_clients_need(test_config, tokens):
    """ETag, Location, X-Request-ID, Retry-After, X-Pagination and Idempotent-Replayed are readable from script."""
    app = create_app({**test_config, "CORS_ORIGINS": ["https://app.torium.example"]})
    response = app.test_client().get("/groups", headers={**tokens.headers(), "Origin": "https://app.torium.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.torium.example"
    exposed = {h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed >= {"etag", "location", "x-request-id", "retry-after", "x-pagination", "idempotent-replayed"}


def test_cors_with_configured_origins_refuses_others(test_config):
    app = create_app({**test_config, "CORS_ORIGINS": ["https://app.torium.example"]})
    response = app.test_client().options(
        "/users", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_lists_sent_as_their_services_render_them_carry_exactly_the_documented_fields(app, client, tokens):
    """Schemas marked RENDERED_BY_SERVICE skip marshmallow on the way out: nothing more or less may be sent."""
    me, headers = tokens.user("lister@example.com")
    friend, _ = tokens.user("listed@example.com")
    group = make_group(app, me, members={friend: "standard"})
    in_group = {**headers, "trm-group-id": str(group)}
    assert client.post("/event", headers=in_group, json={**EVENT, "users": [friend]}).status_code == 200
    listings = {"/groups": (headers, GroupSchema), "/group/members": (in_group, MemberSchema),
                "/event": (headers, EventSchema)}
    for path, (request_headers, schema) in listings.items():
        assert schema.RENDERED_BY_SERVICE
        items = data_of(client.get(path, headers=request_headers))
        assert items and all(set(item) == set(schema().fields) for item in items), path
    users = data_of(client.get("/event", headers=headers))[0]["users"]
    assert len(users) == 2 and all(set(user) == set(EventUserSchema().fields) for user in users)


@given(page=st.integers(1, 50), page_size=st.integers(1, 500), item_count=st.integers(0, 20_000))
def test_the_pagination_header_is_flask_smorests_own(page, page_size, item_count):
    """web.Blueprint builds X-Pagination without flask-smorest's per-request schema; the content is the same."""
    import flask_smorest

    ours = Blueprint._make_pagination_metadata(page, page_size, item_count)
    theirs = flask_smorest.Blueprint._make_pagination_metadata(page, page_size, item_count)
    assert json.dumps(ours) == json.dumps(theirs)
