"""The database connection as production makes it: credentials from Secrets Manager (rotated), per-connection
timeouts, hidden parameters, the migration's own statement timeout, and a 503 when the database gives up."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import flask_migrate
import psycopg2
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.factories import make_user
from torium_api import create_app
from torium_api.config import load_config
from torium_api.extensions import db

INSTANCE = Path(__file__).resolve().parent.parent / "instance"  # ignored by git; pgserver's clusters live here too

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def password_cluster():
    """A PostgreSQL that checks passwords (scram-sha-256), from the pgserver wheel's binaries: the shared test
    servers trust every connection, so they cannot show a rotated password being refused. PostgreSQL refuses to
    run as root; like pgserver itself, run it as the `pgserver` system user then."""
    from pgserver._commands import POSTGRES_BIN_PATH as BIN

    INSTANCE.mkdir(exist_ok=True)
    home, port = Path(tempfile.mkdtemp(prefix="scram-", dir=INSTANCE)), _free_port()
    data, pwfile = home / "data", home / "pw"
    pwfile.write_text("bootstrap-pw\n")
    run_as = {}
    if os.geteuid() == 0:
        from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

        account = ensure_user_exists("pgserver")
        ensure_prefix_permissions(home)
        for path in (home, pwfile):
            os.chown(path, account.pw_uid, account.pw_gid)
        run_as = {"user": "pgserver"}
    subprocess.run([str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
                    f"--pwfile={pwfile}"], check=True, capture_output=True, **run_as)
    subprocess.run([str(BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(home / "log"), "-o",
                    f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''", "start"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **run_as)
    admin = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", password="bootstrap-pw", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("CREATE ROLE torium LOGIN PASSWORD 'first-pw'")
        cursor.execute("CREATE DATABASE torium OWNER torium")
    yield port, admin
    admin.close()
    subprocess.run([str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, **run_as)
    shutil.rmtree(home, ignore_errors=True)


def test_credentials_come_from_the_secret_once_and_again_after_rotation(app, test_config, password_cluster):
    from torium_api import aws

    port, admin = password_cluster
    with app.app_context():
        secrets = aws.client("secretsmanager")
    arn = secrets.create_secret(Name=f"rds-master-{time.time_ns()}",
                                SecretString=json.dumps({"username": "torium", "password": "first-pw"}))["ARN"]
    production_like = create_app({**test_config, "DATABASE_URL": f"postgresql://127.0.0.1:{port}/torium",
                                  "DATABASE_SECRET_ARN": arn})
    secret = production_like.extensions["torium_database_secret"]
    with production_like.app_context():
        assert db.session.scalar(text("SELECT current_user")) == "torium"
        db.session.remove()
        db.engine.dispose()
        assert db.session.scalar(text("SELECT 1")) == 1
        assert secret.fetches == 1  # once per process, not per connection
        # RDS rotates: the role's password and the secret change together; pooled connections stay valid
        with admin.cursor() as cursor:
            cursor.execute("ALTER ROLE torium PASSWORD 'second-pw'")
        secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"username": "torium",
                                                                        "password": "second-pw"}))
        db.session.remove()
        db.engine.dispose()  # the next connection is a new one, with the cached (old) password
        assert db.session.scalar(text("SELECT current_user")) == "torium"
        assert secret.fetches == 2  # refused once, fetched again, connected
        # a secret that is simply wrong fails fast: one more fetch, then the refusal, no loop
        secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"username": "torium", "password": "no"}))
        with admin.cursor() as cursor:
            cursor.execute("ALTER ROLE torium PASSWORD 'third-pw'")
        db.session.remove()
        db.engine.dispose()
        with pytest.raises(OperationalError, match="password authentication failed"):
            db.session.scalar(text("SELECT 1"))
        assert secret.fetches == 3


def test_every_connection_has_statement_lock_and_idle_timeouts(app):
    with app.app_context():
        settings = {name: db.session.scalar(text(f"SHOW {name}")) for name in
                    ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")}
    assert settings == {"statement_timeout": "25s", "lock_timeout": "5s", "idle_in_transaction_session_timeout": "1min"}


def test_a_statement_over_the_timeout_is_a_503(test_config, tokens):
    options = load_config({**_dev(), "DB_STATEMENT_TIMEOUT_MS": "200"})["SQLALCHEMY_ENGINE_OPTIONS"]
    slow = create_app({**test_config, "SQLALCHEMY_ENGINE_OPTIONS": options})

    @slow.get("/tests/slow")
    def _slow():
        db.session.execute(text("SELECT pg_sleep(2)"))
        return {}

    response = slow.test_client().get("/tests/slow", headers=tokens.headers())
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert response.get_json() == {"status": {"code": 503, "message": "The service is busy or restarting; retry "
                                              "shortly"}, "data": None}


def test_migrations_run_without_the_apps_statement_timeout(test_config, database_url):
    """A migration may rightly run longer than a request: with a 300 ms statement timeout the app's own
    connections cancel a 1 s statement, and the same statement inside `flask db upgrade` (alembic's per-revision
    hook) completes and the whole schema is built. (300 ms, not 1 ms: psycopg2's first statements on a new
    connection must fit.)"""
    name = f"torium_migrate_{time.time_ns()}"
    admin_url = database_url.replace("postgresql+psycopg2://", "postgresql://")
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        base, _, query = database_url.partition("?")
        url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
        options = load_config({**_dev(), "DB_STATEMENT_TIMEOUT_MS": "300"})["SQLALCHEMY_ENGINE_OPTIONS"]
        impatient = create_app({**test_config, "DATABASE_URL": url, "SQLALCHEMY_ENGINE_OPTIONS": options})
        slow = []

        def a_slow_migration_step(ctx, step, heads, run_args):
            if not slow:  # once is enough (and keeps the test short)
                ctx.connection.exec_driver_sql("SELECT pg_sleep(1)")
            slow.append(step.up_revision_id)

        impatient.extensions["migrate"].configure_args["on_version_apply"] = a_slow_migration_step
        with impatient.app_context():
            with pytest.raises(OperationalError, match="statement timeout"):
                db.session.execute(text("SELECT pg_sleep(1)"))
            db.session.rollback()
            flask_migrate.upgrade()
            db.session.remove()
            db.engine.dispose()
        with psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://")) as check, check.cursor() as c:
            c.execute("SELECT count(*) FROM alembic_version")
            assert c.fetchone() == (1,)
        assert len(slow) >= 9  # every revision ran, after the slow statement
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def test_sql_parameters_are_hidden_outside_development(app, database_url):
    production = load_config({"TORIUM_ENV": "production"})["SQLALCHEMY_ENGINE_OPTIONS"]
    assert production["hide_parameters"] is True
    assert load_config(_dev())["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is False
    make_user(app, "secret-address@example.com")
    engine = create_engine(database_url, hide_parameters=production["hide_parameters"])
    with engine.connect() as connection, pytest.raises(IntegrityError) as error:
        connection.execute(text("INSERT INTO users (cognito_sub, email) SELECT cognito_sub, :email FROM users"),
                           {"email": "secret-address@example.com"})
    engine.dispose()
    assert "secret-address" not in str(error.value) and "parameters hidden" in str(error.value)


def _dev() -> dict:
    return {"TORIUM_ENV": "development"}


def test_pgserver_binaries_are_where_the_password_cluster_expects_them():
    from pgserver._commands import POSTGRES_BIN_PATH

    assert (Path(POSTGRES_BIN_PATH) / "initdb").exists()
