"""Configuration. The only module that reads ``os.environ``.

Every setting is documented in README.md (section "Configuration"). ``load_config``
turns an environment mapping into the dict that ``create_app`` puts in
``app.config``; tests pass their own mapping plus overrides instead of patching
the process environment.

Fail closed: the development conveniences (the local token issuer, the embedded PostgreSQL, the
local AWS endpoint `make run` starts, ``CORS *``) exist only when ``TORIUM_ENV=development`` is set
explicitly. Any other value, or none, is production: every production setting is required.
"""

import os
import re
from collections.abc import Mapping
from pathlib import Path

LOCAL_ISSUER = "https://torium.local/dev-issuer"
LOCAL_CLIENT_ID = "torium-local"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _local_aws_endpoint(instance_path: Path) -> str | None:
    """The endpoint of the moto server that `make run` started, if one is running."""
    marker = instance_path / "local-aws-endpoint"
    if not marker.exists():
        return None
    return marker.read_text().strip() or None


def wants_local_aws(environ: Mapping[str, str] | None = None) -> bool:
    """`make run` starts a local AWS endpoint unless an endpoint or real credentials are configured."""
    env = os.environ if environ is None else environ
    return not any(env.get(name) for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_PROFILE"))


def environment_with(**overrides: str) -> dict[str, str]:
    """This process's environment plus ``overrides``: what the local stack hands its child processes."""
    return {**os.environ, **overrides}


class ConfigError(RuntimeError):
    """A missing or malformed setting; the message names each one (never a secret's value)."""


REQUIRED_IN_PRODUCTION = ("DATABASE_URL", "COGNITO_USER_POOL_ID", "COGNITO_APP_CLIENT_IDS", "SES_SENDER",
                          "SNS_PLATFORM_APPLICATION_ARN", "RATELIMIT_STORAGE_URI", "CORS_ORIGINS",
                          "PAYMENT_WEBHOOK_SECRET")
# The webhook's signing secret in development (and the demo): public, so validate() refuses it in production.
DEV_WEBHOOK_SECRET = "whsec_development_only_not_a_secret"  # noqa: S105


def validate(config: dict) -> None:
    """Refuse to start a production app with a setting missing or malformed."""
    if config["TORIUM_ENV"] == "development":
        return
    problems = [f"{name} is required in production" for name in REQUIRED_IN_PRODUCTION if not config.get(name)]
    if config["TORIUM_ENV"] != "production":
        problems.insert(0, f"TORIUM_ENV is {config['TORIUM_ENV'] or 'unset'}: anything but development is production "
                           "(set TORIUM_ENV=development for the local stack)")
    checks = [
        ("DATABASE_URL", lambda v: v.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")),
         "must be a postgresql:// URL"),
        ("COGNITO_USER_POOL_ID", lambda v: re.fullmatch(r"[a-z]{2}-[a-z]+-\d_[0-9A-Za-z]+", v), "is not a pool id"),
        ("SNS_PLATFORM_APPLICATION_ARN", lambda v: v.startswith("arn:aws:sns:"), "must be an SNS ARN"),
        ("SES_SENDER", lambda v: "@" in v, "must be an e-mail address"),
        ("RATELIMIT_STORAGE_URI", lambda v: not v.startswith("memory://"),
         "must be shared storage (redis://…): memory:// counts per process"),
        ("CORS_ORIGINS", lambda v: "*" not in v, "must list origins explicitly, not *"),
        ("AWS_ENDPOINT_URL", lambda v: v is None, "must be unset in production (real AWS)"),
        ("PAYMENT_WEBHOOK_SECRET", lambda v: all(len(s) >= 24 and s != DEV_WEBHOOK_SECRET for s in v),
         "must be the provider's signing secret(s), each at least 24 characters"),
        ("PLATFORM_FEE_BPS", lambda v: 0 <= v <= 10_000, "must be basis points between 0 and 10000"),
        ("DEPOSITS_ENABLED", lambda v: not v, "must be off in production (money enters through the payment provider)"),
    ]
    for name, ok, message in checks:
        value = config.get(name)
        if (value or name == "AWS_ENDPOINT_URL") and not ok(value):
            problems.append(f"{name} {message}")
    if problems:
        raise ConfigError("Invalid configuration: " + "; ".join(problems))


def load_config(environ: Mapping[str, str] | None = None, instance_path: Path | None = None) -> dict:
    env = os.environ if environ is None else environ
    instance = Path(instance_path or Path(__file__).resolve().parent.parent / "instance")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-central-1"
    pool_id = env.get("COGNITO_USER_POOL_ID") or None
    cognito_region = env.get("COGNITO_REGION") or region
    development = env.get("TORIUM_ENV") == "development"
    production = not development  # fail closed: unset or unknown means production
    endpoint = env.get("AWS_ENDPOINT_URL") or (_local_aws_endpoint(instance) if development else None)
    statement_timeout = int(env.get("DB_STATEMENT_TIMEOUT_MS", "25000"))  # below gunicorn's 30 s timeout
    lock_timeout = int(env.get("DB_LOCK_TIMEOUT_MS", "5000"))
    idle_timeout = int(env.get("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", "60000"))
    return {
        "TORIUM_ENV": env.get("TORIUM_ENV") or "",
        "TRUSTED_PROXY_HOPS": int(env.get("TRUSTED_PROXY_HOPS", "0")),
        # Database: DATABASE_URL, or an embedded PostgreSQL under instance/ when unset.
        "DATABASE_URL": env.get("DATABASE_URL") or None,
        "EMBEDDED_PG_DIR": str(instance / "pgdata"),
        # The database's user and password from a Secrets Manager secret (RDS's managed master secret) instead of
        # DATABASE_URL: fetched once per process, again after an authentication failure (rotation).
        "DATABASE_SECRET_ARN": env.get("DATABASE_SECRET_ARN") or None,
        # Per connection: a statement, a lock wait or an idle open transaction longer than these is cancelled.
        "DB_STATEMENT_TIMEOUT_MS": statement_timeout,
        "DB_LOCK_TIMEOUT_MS": lock_timeout,
        "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": idle_timeout,
        "SQLALCHEMY_ENGINE_OPTIONS": {
            # No ping per checkout (a round trip on every request): a connection the server dropped fails its
            # request once (503, Retry-After) and SQLAlchemy then discards the whole pool; pool_recycle below
            # retires connections before idle timeouts drop them.
            "pool_pre_ping": _bool(env.get("DB_POOL_PRE_PING")),
            "pool_recycle": int(env.get("DB_POOL_RECYCLE_SECONDS", "280")),
            # A connection per request thread (gunicorn.conf.py: 4 threads) plus a few for bursts and background
            # threads; README "Connection budget" multiplies it out against RDS max_connections.
            "pool_size": int(env.get("DB_POOL_SIZE", "4")),
            "max_overflow": int(env.get("DB_MAX_OVERFLOW", "4")),
            "pool_timeout": float(env.get("DB_POOL_TIMEOUT_SECONDS", "10")),
            # SQL parameters (e-mails, phone numbers) never in logs or exceptions outside development.
            "hide_parameters": production,
            "connect_args": {"connect_timeout": int(env.get("DB_CONNECT_TIMEOUT_SECONDS", "5")), "options": (
                f"-c statement_timeout={statement_timeout} -c lock_timeout={lock_timeout} "
                f"-c idle_in_transaction_session_timeout={idle_timeout}")},
        },
        # Identity: Amazon Cognito, or the local development issuer when no pool is set.
        "COGNITO_USER_POOL_ID": pool_id,
        "COGNITO_REGION": cognito_region,
        "COGNITO_ISSUER": (
            f"https://cognito-idp.{cognito_region}.amazonaws.com/{pool_id}" if pool_id else LOCAL_ISSUER
        ),
        "COGNITO_JWKS_URL": None,  # derived from the issuer; only tests point it elsewhere
        "COGNITO_APP_CLIENT_IDS": _list(env.get("COGNITO_APP_CLIENT_IDS")) if pool_id else [LOCAL_CLIENT_ID],
        "COGNITO_ACCEPT_ID_TOKENS": _bool(env.get("COGNITO_ACCEPT_ID_TOKENS")),
        # How often the verified e-mail behind an access token (which carries none) is read again from Cognito.
        "IDENTITY_REFRESH_SECONDS": int(env.get("IDENTITY_REFRESH_SECONDS", "86400")),
        "AUTH_LEEWAY_SECONDS": int(env.get("AUTH_LEEWAY_SECONDS", "30")),
        "JWKS_CACHE_SECONDS": int(env.get("JWKS_CACHE_SECONDS", "21600")),
        "JWKS_TIMEOUT_SECONDS": float(env.get("JWKS_TIMEOUT_SECONDS", "3")),
        # While the JWKS endpoint fails, keys older than JWKS_CACHE_SECONDS are still served up to this age.
        "JWKS_MAX_STALE_SECONDS": int(env.get("JWKS_MAX_STALE_SECONDS", "86400")),
        "LOCAL_KEY_DIR": str(instance / "dev-keys"),
        # AWS: real AWS by default; AWS_ENDPOINT_URL (or `make run`'s moto server) for local.
        "AWS_REGION": region,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_LOCAL": endpoint is not None and not env.get("AWS_ACCESS_KEY_ID"),
        "QUEUE_PREFIX": env.get("QUEUE_PREFIX", "torium-"),
        "QUEUE_MAX_RECEIVES": int(env.get("QUEUE_MAX_RECEIVES", "5")),
        "QUEUE_VISIBILITY_TIMEOUT": int(env.get("QUEUE_VISIBILITY_TIMEOUT", "60")),
        "WORKER_WAIT_SECONDS": int(env.get("WORKER_WAIT_SECONDS", "20")),
        "WORKER_CONCURRENCY": int(env.get("WORKER_CONCURRENCY", "4")),
        "WORKER_RETRY_BASE_SECONDS": int(env.get("WORKER_RETRY_BASE_SECONDS", "10")),
        "RELAY_IDLE_SECONDS": float(env.get("RELAY_IDLE_SECONDS", "0.5")),
        "RELAY_BATCH_SIZE": int(env.get("RELAY_BATCH_SIZE", "100")),
        "SCHEDULER_INTERVAL_SECONDS": int(env.get("SCHEDULER_INTERVAL_SECONDS", "15")),
        "SES_SENDER": env.get("SES_SENDER") or (None if production else "no-reply@torium.local"),
        "SNS_PLATFORM_APPLICATION_ARN": env.get("SNS_PLATFORM_APPLICATION_ARN") or None,
        "PRODUCT_IMAGE_BUCKET": env.get("PRODUCT_IMAGE_BUCKET", "torium-product-images"),
        "ORGANIZATION_LOGO_BUCKET": env.get("ORGANIZATION_LOGO_BUCKET", "organization-torium"),
        # Phone verification.
        "MOBILE_CODE_TTL_SECONDS": int(env.get("MOBILE_CODE_TTL_SECONDS", "600")),
        "MOBILE_CODE_MAX_ATTEMPTS": int(env.get("MOBILE_CODE_MAX_ATTEMPTS", "5")),
        "MOBILE_CODES_PER_HOUR": int(env.get("MOBILE_CODES_PER_HOUR", "5")),
        "CURRENCY": env.get("CURRENCY", "PLN"),
        "DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Europe/Warsaw"),
        "NOTIFY_THROTTLE_SECONDS": int(env.get("NOTIFY_THROTTLE_SECONDS", "86400")),
        "ORDER_STEP_TIMEOUT_SECONDS": int(env.get("ORDER_STEP_TIMEOUT_SECONDS", "300")),
        "ORDER_MAX_RETRIES": int(env.get("ORDER_MAX_RETRIES", "3")),
        "ORDER_RECEIPT_TIMEOUT_SECONDS": int(env.get("ORDER_RECEIPT_TIMEOUT_SECONDS", str(14 * 86400))),
        "MAX_GROUP_MEMBERS": int(env.get("MAX_GROUP_MEMBERS", "500")),
        # Quotas per user (429 with Retry-After beyond): what grows without bound or reaches other people.
        "QUOTA_EVENTS_PER_DAY": int(env.get("QUOTA_EVENTS_PER_DAY", "50")),
        "QUOTA_COMMENTS_PER_HOUR": int(env.get("QUOTA_COMMENTS_PER_HOUR", "60")),
        "QUOTA_INVITATIONS_PER_DAY": int(env.get("QUOTA_INVITATIONS_PER_DAY", "100")),
        "QUOTA_GROUPS_PER_DAY": int(env.get("QUOTA_GROUPS_PER_DAY", "20")),
        "MAX_GROUPS_OWNED": int(env.get("MAX_GROUPS_OWNED", "100")),
        "MOBILE_CODES_PER_NUMBER_PER_DAY": int(env.get("MOBILE_CODES_PER_NUMBER_PER_DAY", "5")),
        # A comment pushes the event's other members at most once per this interval (later ones: in the app only).
        "COMMENT_PUSH_INTERVAL_SECONDS": int(env.get("COMMENT_PUSH_INTERVAL_SECONDS", "300")),
        # HTTP.
        "CORS_ORIGINS": _list(env.get("CORS_ORIGINS")) or (["*"] if development else []),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(64 * 1024))),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or (None if production else "memory://"),
        "RATELIMIT_EMAIL_LOOKUP": env.get("RATELIMIT_EMAIL_LOOKUP", "20/minute;200/day"),
        "RATELIMIT_ORDERS": env.get("RATELIMIT_ORDERS", "30/minute;500/day"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # While the shared store is unreachable, limits count per process instead of failing every request; a
        # store that hangs costs at most half a second.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        "SQL_COUNT_HEADER": _bool(env.get("SQL_COUNT_HEADER")),  # benchmark only: X-SQL-Count on responses
        # The local stack (development only).
        "LOCAL_PORT": int(env.get("PORT", "5000")),
        "LOCAL_AWS_MARKER": str(instance / "local-aws-endpoint"),
        # flask-smorest / OpenAPI.
        "API_TITLE": "torium-api",
        "API_VERSION": "1.0.0",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        # Swagger UI's own files, served by the app from the pinned swagger-ui-bundle package (no CDN): see
        # openapi.swagger_ui_assets. flask-smorest appends the file names, hence the final slash.
        "OPENAPI_SWAGGER_UI_URL": "/docs/static/",
        "API_SPEC_OPTIONS": {
            "info": {"description": "The Torium app's API (the Flutter client's contract routes) and the shop's. "
                                    "Every body is an envelope: {status: {code, message}, data}."},
            "servers": [{"url": "http://127.0.0.1:5000", "description": "Local: make run"},
                        {"url": "https://api.torium.example", "description": "Production"}],
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            },
            "security": [{"bearerAuth": []}],
        },
        # Background supervision and monitoring (monitoring/, workers/, outbox/relay.py; docs/operations.md).
        "WORKER_STALL_SECONDS": float(env.get("WORKER_STALL_SECONDS", "300")),
        "WORKER_BACKOFF_MAX_SECONDS": float(env.get("WORKER_BACKOFF_MAX_SECONDS", "30")),
        "UNKNOWN_TYPE_RETRY_SECONDS": int(env.get("UNKNOWN_TYPE_RETRY_SECONDS", "60")),
        "UNKNOWN_TYPE_MAX_SECONDS": int(env.get("UNKNOWN_TYPE_MAX_SECONDS", "3600")),
        "HEARTBEAT_SECONDS": float(env.get("HEARTBEAT_SECONDS", "15")),
        "HEARTBEAT_STALE_SECONDS": float(env.get("HEARTBEAT_STALE_SECONDS", "60")),
        "METRICS_NAMESPACE": env.get("METRICS_NAMESPACE") or "Torium",
        "METRICS_EMF_ENDPOINT": env.get("METRICS_EMF_ENDPOINT") or None,
        "METRICS_LOG_GROUP": env.get("METRICS_LOG_GROUP") or "/aws/elasticbeanstalk/torium/metrics",
        # The back office, money in and out, erasure (torium_api/admin, payments, accounts; docs/admin.md).
        # The platform's share of each order line, in basis points (1000 = 10.00 %); a line's fee is rounded half
        # up to a whole minor unit, the seller gets the line's amount minus it (fixed per line when it is ordered).
        "PLATFORM_FEE_BPS": int(env.get("PLATFORM_FEE_BPS", "1000")),
        # The payment provider's webhook signing secret(s), comma-separated while one is rotated out.
        "PAYMENT_WEBHOOK_SECRET": _list(env.get("PAYMENT_WEBHOOK_SECRET")) or (
            [DEV_WEBHOOK_SECRET] if development else []),
        # A webhook whose signed timestamp is further than this from now (either way) is refused: replays.
        "PAYMENT_WEBHOOK_TOLERANCE_SECONDS": int(env.get("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", "300")),
        # POST /accounts/me/deposits: money from nowhere, for development and the demo; refused in production.
        "DEPOSITS_ENABLED": _bool(env.get("DEPOSITS_ENABLED"), default=development),
        # The pool the workers' Cognito admin calls go to (custom:user_id, disable, groups, delete): the verifier's
        # pool unless set (tests point it at moto's Cognito while the verifier trusts the local issuer).
        "COGNITO_ADMIN_USER_POOL_ID": env.get("COGNITO_ADMIN_USER_POOL_ID") or pool_id,
    }
