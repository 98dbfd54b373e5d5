"""Test fixtures: a real, migrated PostgreSQL; moto's server for AWS; real RS256 tokens.

The database is the local server named by TEST_DATABASE_URL when set, otherwise an
embedded PostgreSQL (pgserver) under instance/pgtest, so `make test` needs nothing
installed on the machine. The schema is built by the migrations, never create_all().
"""

import os
import uuid
from pathlib import Path

os.environ["TORIUM_ENV"] = "development"  # the local issuer and moto; production refuses both (fail closed)

import flask_migrate
import psycopg2
import pytest
from sqlalchemy import text

from tests.factories import KEEP_TABLES, Pool, TokenFactory, drain
from torium_api import create_app
from torium_api.dev import local_aws
from torium_api.extensions import db, limiter

ROOT = Path(__file__).resolve().parent.parent


def _fresh_database(admin_url: str, name: str) -> None:
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


@pytest.fixture(scope="session")
def database_url() -> str:
    name = f"torium_test_{os.getpid()}"
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if admin_url is None:
        from torium_api.dev.embedded_pg import database_url as embedded

        embedded_url = embedded(str(ROOT / "instance" / "pgtest"), database="postgres")
        admin_url = embedded_url.replace("postgresql+psycopg2", "postgresql")
    _fresh_database(admin_url, name)
    base, _, query = admin_url.partition("?")
    url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    yield url.replace("postgresql://", "postgresql+psycopg2://", 1)
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture(scope="session")
def aws_endpoint() -> str:
    server, endpoint = local_aws.start_moto_server()
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def test_config(database_url, aws_endpoint, tmp_path_factory) -> dict:
    return {
        "TESTING": True,
        "TORIUM_ENV": "development",
        "DATABASE_URL": database_url,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_LOCAL": True,
        "COGNITO_USER_POOL_ID": None,
        "LOCAL_KEY_DIR": str(tmp_path_factory.mktemp("keys")),
        "QUEUE_PREFIX": f"t{uuid.uuid4().hex[:8]}-",
        "QUEUE_MAX_RECEIVES": 3,
        "QUEUE_VISIBILITY_TIMEOUT": 30,
        "WORKER_RETRY_BASE_SECONDS": 0,
        "WORKER_WAIT_SECONDS": 0,
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="session")
def app(test_config):
    app = create_app(test_config)
    with app.app_context():
        flask_migrate.upgrade()
        app.config.update(local_aws.provision())
    return app


@pytest.fixture(autouse=True)
def clean_db(app):
    yield
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables if t.name not in KEEP_TABLES]
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        db.session.commit()
    limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def tokens(app) -> TokenFactory:
    return TokenFactory(app)


@pytest.fixture
def user(tokens):
    """A user: (id, auth headers)."""
    return tokens.user("ada@example.com")


@pytest.fixture
def sqs(app):
    """The SQS client, with every test queue and DLQ emptied first."""
    from torium_api import aws, queues

    with app.app_context():
        client = aws.client("sqs")
        for queue in queues.ALL:
            drain(client, queues.url(queue))
            drain(client, queues.dlq_url(queue))
    return client


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
