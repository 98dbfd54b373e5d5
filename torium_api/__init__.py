"""torium-api: the Flask application factory."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from torium_api.config import load_config, validate
from torium_api.json_provider import OrjsonProvider

# Response headers a browser client may read (CORS hides all but a few by default).
EXPOSED_HEADERS = ["ETag", "Location", "X-Request-ID", "Retry-After", "X-Pagination", "Idempotent-Replayed"]


def create_app(config: dict | None = None) -> Flask:
    """config → extensions → errors → auth → blueprints → CLI.

    ``config`` overrides what ``load_config()`` reads from the environment (tests use it).
    """
    app = Flask(__name__, static_folder=None)
    app.json = OrjsonProvider(app)  # keeps the envelope as written (status first), encodes fast
    app.config.from_mapping(load_config(instance_path=app.instance_path))
    app.config.from_mapping(config or {})
    validate(app.config)
    _configure_database(app)
    if app.config["TRUSTED_PROXY_HOPS"]:  # ALB → nginx → gunicorn: the client is N hops back in X-Forwarded-For
        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)

    from torium_api import (  # noqa: F401 (workers: handler models)
        audit,  # noqa: F401 (its model)
        auth,
        cli,
        health,
        idempotency,  # noqa: F401 (its model)
        logs,
        openapi,
        workers,
    )
    from torium_api.accounts import blp as accounts_blp
    from torium_api.admin import blp as admin_blp
    from torium_api.admin import privacy_blp
    from torium_api.events import blp as events_blp
    from torium_api.extensions import cors, db, limiter, migrate
    from torium_api.groups import blp as groups_blp
    from torium_api.notifications import blp as notifications_blp
    from torium_api.orders import blp as orders_blp
    from torium_api.organizations import blp as organizations_blp
    from torium_api.payments import blp as payments_blp
    from torium_api.products import blp as products_blp
    from torium_api.users import blp as users_blp
    from torium_api.users.views import effective_roles, load_user
    from torium_api.web import Api, reject_nul_characters

    logs.configure_logging(app.config["LOG_LEVEL"])
    db.init_app(app)
    if app.config["DATABASE_SECRET_ARN"]:
        _use_database_secret(app)
    migrate.init_app(app, db, directory=str(_ROOT / "migrations"), compare_type=True, render_as_batch=False)
    cors.init_app(app, origins=app.config["CORS_ORIGINS"], supports_credentials=False, expose_headers=EXPOSED_HEADERS)
    limiter.init_app(app)
    logs.init_app(app)
    api = Api(app)  # also registers the error handlers (errors.py via web.Api)
    app.register_blueprint(openapi.swagger_ui_assets())  # /docs/static/: Swagger UI's files, for /docs
    app.before_request(reject_nul_characters)
    auth.init_app(app, load_user=load_user, roles=effective_roles)
    blueprints = (health.blp, organizations_blp, users_blp, groups_blp, events_blp, products_blp, accounts_blp,
                  orders_blp, notifications_blp, payments_blp, privacy_blp, admin_blp)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    cli.register(app)
    if app.config["TORIUM_ENV"] == "development":
        from torium_api import dev

        dev.init_app(app)
    return app


def _configure_database(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    if url is None:  # only in development: validate() requires DATABASE_URL elsewhere
        from torium_api import dev

        url = dev.database_url(app.config)
    else:
        url = _with_driver(url)
    app.config["SQLALCHEMY_DATABASE_URI"] = url


def _use_database_secret(app: Flask) -> None:
    from torium_api import aws
    from torium_api.credentials import DatabaseSecret, use_secret
    from torium_api.extensions import db

    secret = DatabaseSecret(aws.build_client("secretsmanager", app.config), app.config["DATABASE_SECRET_ARN"])
    app.extensions["torium_database_secret"] = secret
    with app.app_context():
        use_secret(db.engine, secret)


def _with_driver(url: str) -> str:
    """postgres:// (Heroku/RDS style) and postgresql:// both mean psycopg2, the driver we install.

    SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which is not a dependency.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url.removeprefix(prefix)
    return url


from pathlib import Path  # noqa: E402

_ROOT = Path(__file__).resolve().parent.parent
