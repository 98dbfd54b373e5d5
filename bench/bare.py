"""The ceiling for `make bench`: a bare Flask app that answers /health with the same envelope and nothing else
(no database, no auth, no logging, no limiter), served by the same gunicorn configuration as the real one.

    gunicorn --config gunicorn.conf.py bench.bare:application
"""

from flask import Flask

application = Flask(__name__)
BODY = {"status": {"code": 200, "message": "Success"}, "data": {"database": "ok"}}


@application.get("/health")
def health():
    return BODY
