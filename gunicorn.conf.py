"""gunicorn settings for the Procfile's `web` process (Elastic Beanstalk: nginx → 127.0.0.1:8000)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# (2 × cores) + 1 processes, 4 threads each; every thread may hold a DB connection, so keep
# processes × threads × instances under the RDS max_connections (see README, Deployment).
# Measured on 2 cores (bench/RESULTS.md): (5,4), (3,4), (2,8), (5,1), (4,1) and (3,2) processes × threads
# were all within run-to-run noise (±15 %) for /health, GET /groups and GET /event; a request spends part
# of its time waiting on PostgreSQL, so threads keep the cores busy, and the default stays the documented one.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30  # below nginx's proxy_read_timeout (60 s, .platform/nginx/conf.d/timeouts.conf)
graceful_timeout = 30
keepalive = 5
# Import the app once in the master and fork it: a worker (re)start is a fork, not a ~1 s import, and the
# workers share the imported code's memory. post_fork below drops the master's database connections.
preload_app = True
# Recycle workers as a guard against slow leaks, but rarely: at 2,000 requests a loaded instance restarted
# a worker every few seconds, and each restart cost a full import (p99 spikes in bench/RESULTS.md).
max_requests = 50000
max_requests_jitter = 5000
# No gunicorn access log: the app writes one JSON line per request itself (logger torium_api.access: method,
# path, status, duration, request id, user) and nginx logs every request in front of it. A second line per
# request cost ~0.1 ms of a worker's CPU and a third of /health's throughput (bench/RESULTS.md).
accesslog = None
errorlog = "-"
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190


def post_fork(server, worker):
    """Connections inherited from the master must not be shared between processes."""
    from application import application
    from torium_api.extensions import db

    with application.app_context():
        db.engine.dispose(close=False)
