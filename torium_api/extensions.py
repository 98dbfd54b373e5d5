"""Flask extensions, created unbound and initialised in ``create_app``.

The flask-smorest ``Api`` is the exception: ``init_app`` rebuilds its spec in place,
so one module-level instance would serve the last app's spec to every app (tests build
several apps). ``create_app`` makes one per app instead.
"""

import flask_limiter
from flask import g, request
from flask_cors import CORS
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from torium_api.orm import Base


def rate_limit_key() -> str:
    """Rate limits count per authenticated user, else per client address (ProxyFix makes it the real one)."""
    claims = getattr(g, "auth_claims", None)
    return f"sub:{claims['sub']}" if claims else f"ip:{request.remote_addr}"


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter without its pass over every request. Its before-request hook exists for default and
    application-wide limits; this API sets none and declares limits only on the views that have them, whose
    decorator checks them. The hook cost every route a fifth of a millisecond for nothing (bench/RESULTS.md)."""

    def init_app(self, app) -> None:
        super().init_app(app)
        if self.limit_manager._default_limits or self.limit_manager._application_limits:
            raise RuntimeError("default or application-wide limits need Flask-Limiter's before-request check back")

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if not in_middleware:  # a view's own @limiter.limit
            super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
cors = CORS()
limiter = Limiter(key_func=rate_limit_key, default_limits=[])
