"""`make run`: the whole system on one machine, in one command (``python -m torium_api.dev``).

Uses what is configured and supplies the rest: the embedded PostgreSQL when ``DATABASE_URL`` is unset, a
moto server on loopback when no AWS endpoint or credentials are configured. Then it migrates, provisions
the local queues, seeds demo data, starts one relay and one worker as child processes, prints a token and
serves the API until Ctrl-C, when it stops everything it started. Only for ``TORIUM_ENV=development``.
"""

import atexit
import contextlib
import signal
import subprocess
import sys
from pathlib import Path

from torium_api import config as settings

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO_EMAIL = "demo@torium.local"


def main() -> None:
    environment = settings.load_config()
    if environment["TORIUM_ENV"] != "development":
        sys.exit("the local stack runs only with TORIUM_ENV=development (make run sets it)")
    # Ctrl-C and SIGTERM both end the run through atexit, which stops what we started.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    marker = Path(environment["LOCAL_AWS_MARKER"])
    marker.parent.mkdir(exist_ok=True)
    marker.unlink(missing_ok=True)
    child_env, overrides = {}, {}
    if settings.wants_local_aws():
        from torium_api.dev.local_aws import start_moto_server

        server, endpoint = start_moto_server()
        marker.write_text(endpoint)
        atexit.register(marker.unlink, missing_ok=True)
        atexit.register(server.stop)
        child_env["AWS_ENDPOINT_URL"] = endpoint
        overrides.update(AWS_ENDPOINT_URL=endpoint, AWS_LOCAL=True)

    from torium_api import create_app

    app = create_app(overrides)
    child_env["DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]  # children share this server
    token = _prepare(app, child_env, local_aws=bool(overrides))
    children = [_spawn(["outbox", "relay"], child_env), _spawn(["worker", "run"], child_env)]
    atexit.register(_stop_all, children)
    port = environment["LOCAL_PORT"]
    _banner(port, token, child_env.get("AWS_ENDPOINT_URL"))
    with contextlib.suppress(KeyboardInterrupt):
        app.run(host="127.0.0.1", port=port, threaded=True, use_reloader=False)


def _prepare(app, child_env: dict, local_aws: bool) -> str:
    import flask_migrate

    from torium_api.database import transaction
    from torium_api.dev import local_aws as local
    from torium_api.dev.demo import seed_demo_data
    from torium_api.dev.local_issuer import mint_local_token

    with app.app_context():
        flask_migrate.upgrade()
        if local_aws:
            provisioned = local.provision()
            child_env.update(provisioned)
            app.config.update(provisioned)
        with transaction():
            seed_demo_data()
        return mint_local_token(DEMO_EMAIL)


def _spawn(command: list[str], child_env: dict) -> subprocess.Popen:
    flask = [sys.executable, "-m", "flask", "--app", "application", *command]
    env = settings.environment_with(**child_env, WORKER_WAIT_SECONDS="5", SCHEDULER_INTERVAL_SECONDS="10")
    return subprocess.Popen(flask, cwd=ROOT, env=env)  # noqa: S603 (our own command line)


def _stop_all(children: list[subprocess.Popen]) -> None:
    for child in children:
        child.terminate()
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


def _banner(port: int, token: str, aws_endpoint: str | None) -> None:
    base = f"http://127.0.0.1:{port}"
    lines = [
        "",
        f"torium-api is running on {base}  (Swagger UI: {base}/docs, health: {base}/health)",
        f"local AWS endpoint (moto): {aws_endpoint}" if aws_endpoint else "AWS: the configured endpoint",
        f"try it:  curl -H \"Authorization: Bearer $TOKEN\" {base}/users",
        "sent SMS/e-mail/push:  TORIUM_ENV=development .venv/bin/flask --app application notifications sent",
        f"a token for {DEMO_EMAIL} (valid 12 h; `make token EMAIL=...` for others):",
        token,
        "",
    ]
    print("\n".join(lines), flush=True)
