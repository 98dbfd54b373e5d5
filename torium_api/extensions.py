"""Flask extensions, created unbound and initialised in ``create_app``.

The flask-smorest ``Api`` is the exception: ``init_app`` rebuilds its spec in place,
so one module-level instance would serve the last app's spec to every app (tests build
several apps). ``create_app`` makes one per app instead.
"""

from flask import g, request
from flask_cors import CORS
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from torium_api.orm import Base


def rate_limit_key() -> str:
    """Rate limits count per authenticated user, else per client address (ProxyFix makes it the real one)."""
    claims = getattr(g, "auth_claims", None)
    return f"sub:{claims['sub']}" if claims else f"ip:{request.remote_addr}"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
cors = CORS()
limiter = Limiter(key_func=rate_limit_key, default_limits=[])
