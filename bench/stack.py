"""The whole background stack for a benchmark: embedded PostgreSQL, a moto server, relay and worker processes."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def background_stack(name: str, **settings: str):
    """Yield an app (migrated, queues provisioned) while a relay and a worker run as separate processes."""
    from torium_api.dev.embedded_pg import database_url
    from torium_api.dev.local_aws import start_moto_server

    server, endpoint = start_moto_server()
    env = {**os.environ, "DATABASE_URL": database_url(str(ROOT / "instance" / "pgbench"), f"{name}_{os.getpid()}"),
           "AWS_ENDPOINT_URL": endpoint, "LOG_LEVEL": "WARNING", "WORKER_WAIT_SECONDS": "1",
           "QUEUE_PREFIX": f"{name}-", **settings}
    env.pop("AWS_ACCESS_KEY_ID", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "AWS_ENDPOINT_URL", "LOG_LEVEL", "QUEUE_PREFIX",
                                           *settings)})
    import flask_migrate

    from torium_api import create_app
    from torium_api.dev import local_aws

    app = create_app()
    with app.app_context():
        flask_migrate.upgrade()
        env.update(local_aws.provision())
    flask = [sys.executable, "-m", "flask", "--app", "application"]
    # The processes' output (warnings and their heartbeat metric lines, several a second) goes to a file, not
    # between the benchmark's figures.
    (ROOT / "instance").mkdir(exist_ok=True)
    output = (ROOT / "instance" / f"bench-{name}.log").open("w")
    procs = [subprocess.Popen([*flask, "outbox", "relay"], cwd=ROOT, env=env, stdout=output, stderr=output),
             subprocess.Popen([*flask, "worker", "run"], cwd=ROOT, env=env, stdout=output, stderr=output)]
    try:
        time.sleep(3)
        yield app
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
        server.stop()
        output.close()
        print(f"(relay and worker output: {Path(output.name).relative_to(ROOT)})")
