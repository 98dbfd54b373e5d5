"""Flask extensions, created unbound and initialised in ``create_app``.

The flask-smorest ``Api`` is the exception: ``init_app`` rebuilds its spec in place,
so one module-level instance would serve the last app's spec to every app (tests build
several apps). ``create_app`` makes one per app instead.
"""

from flask_cors import CORS
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from torium_api.database import Base
from torium_api.web import rate_limit_key

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
cors = CORS()
limiter = Limiter(key_func=rate_limit_key, default_limits=[])
