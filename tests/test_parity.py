"""Production parity: the app started the way Elastic Beanstalk starts it, from requirements.txt alone.

A virtualenv built with nothing but ``pip install --require-hashes -r requirements.txt`` (cached under
``instance/`` by the lock's hash), a copy of the bundle (the repo's tracked files), ``TORIUM_ENV=production``
with every required setting, the leader's migration command exactly as ``.ebextensions/04_migrate.config``
has it, then the Procfile's web, worker and relay exactly as written, against a real PostgreSQL and Redis on
this machine while AWS is unreachable (fake credentials, every HTTPS request sent to a closed local proxy).

Without a PostgreSQL at 127.0.0.1:5432 or a Redis at 127.0.0.1:6379 (a fresh laptop) the tests that need them
skip and say why; ``.ci/run`` sets TORIUM_PARITY_REQUIRED=1, which turns that skip into a failure.
"""

import fcntl
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg2
import pytest
import redis
import yaml

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.txt"
POSTGRES = os.environ.get("TORIUM_PARITY_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("TORIUM_PARITY_REDIS", "redis://127.0.0.1:6379/13")  # a database index nobody else uses
EB_VENV = "/var/app/venv/*"  # where the platform keeps the app's virtualenv (the only path substituted)
LIMIT_KEY = f"torium-parity-{os.getpid()}"  # in the rate-limit keys this run writes to Redis
ALIVE_SECONDS = 8  # how long the worker and relay must keep retrying while AWS is unreachable


def skip_or_fail(reason: str) -> None:
    if os.environ.get("TORIUM_PARITY_REQUIRED") == "1":
        pytest.fail(f"{reason}; TORIUM_PARITY_REQUIRED=1 (CI) needs the production parity check to run in full")
    pytest.skip(reason)


# The virtualenv and the bundle ---------------------------------------------------------------------------------

def _pip_env() -> dict:
    """pip as on an instance: PyPI only, none of this machine's pip settings (local indexes, find-links)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k == "PIP_CERT"}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}


def production_venv() -> Path:
    """A virtualenv of requirements.txt alone, rebuilt whenever the lock (or the Python) changes."""
    key = hashlib.sha256(LOCK.read_bytes() + sys.version.encode()).hexdigest()[:16]
    instance = ROOT / "instance"
    instance.mkdir(exist_ok=True)
    venv = instance / f"parity-venv-{key}"
    with open(instance / "parity-venv.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if (venv / "complete").exists():
            return venv
        for old in instance.glob("parity-venv-*"):
            if old.is_dir():
                shutil.rmtree(old)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                  "--require-hashes", "-r", str(LOCK)], env=_pip_env(), capture_output=True,
                                 text=True, timeout=900)
        assert install.returncode == 0, f"pip install --require-hashes -r requirements.txt failed:\n" \
                                        f"{install.stdout[-3000:]}{install.stderr[-3000:]}"
        (venv / "complete").write_text(LOCK.read_text())
    return venv


@pytest.fixture(scope="session")
def parity_venv() -> Path:
    return production_venv()


def copy_bundle(target: Path) -> Path:
    """What `eb deploy` uploads: the repository's tracked files (as they are in the work tree)."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True) \
        if shutil.which("git") else None
    if listed is None or listed.returncode != 0:  # not a git checkout: the tree less what .gitignore keeps out
        ignore = shutil.ignore_patterns(".git", ".venv", "instance", "__pycache__", "*.pyc", ".*_cache",
                                        ".hypothesis")
        shutil.copytree(ROOT, target, ignore=ignore)
        return target
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def production_environment(venv: Path, home: Path, database_url: str, redis_url: str) -> dict:
    """.ebextensions' environment defaults plus the per-environment properties README's `eb create` sets."""
    config = yaml.safe_load((ROOT / ".ebextensions" / "01_environment.config").read_text())
    defaults = config["option_settings"]["aws:elasticbeanstalk:application:environment"]
    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there: AWS is unreachable
    return {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
        **{name: str(value) for name, value in defaults.items()},
        "DATABASE_URL": database_url, "RATELIMIT_STORAGE_URI": redis_url,
        "COGNITO_USER_POOL_ID": "eu-central-1_AbCdEf123", "COGNITO_APP_CLIENT_IDS": "3n4b5urk1ft4fl3mg5e62d9ado",
        "SES_SENDER": "no-reply@torium.example", "CORS_ORIGINS": "https://admin.torium.example",
        "PAYMENT_WEBHOOK_SECRET": "whsec_parity_not_a_real_secret_000",
        "SNS_PLATFORM_APPLICATION_ARN": "arn:aws:sns:eu-central-1:123456789012:app/GCM/torium-fcm",
        "AWS_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "AKIAPARITYNOTREAL000", "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance metadata lookups (169.254.169.254) from here
        "HTTPS_PROXY": closed, "HTTP_PROXY": closed, "https_proxy": closed, "http_proxy": closed,
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# PostgreSQL and Redis ------------------------------------------------------------------------------------------

def _reachable_postgres() -> None:
    try:
        psycopg2.connect(POSTGRES, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        skip_or_fail(f"no PostgreSQL at {POSTGRES} for the production parity check ({str(exc).splitlines()[0]})")


@pytest.fixture(scope="module")
def limits_redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        skip_or_fail(f"no Redis at {REDIS} for the production parity check ({exc})")
    yield client
    for key in client.scan_iter(match=f"*{LIMIT_KEY}*"):  # only this run's: others may be running
        client.delete(key)


def _admin(sql: str) -> None:
    conn = psycopg2.connect(POSTGRES)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


@pytest.fixture(scope="module")
def database() -> str:
    _reachable_postgres()
    name = f"torium_parity_{os.getpid()}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    base, _, query = POSTGRES.partition("?")
    yield base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The deploy: migrate on the leader, then the Procfile ----------------------------------------------------------

class Stack:
    """The bundle, its environment, the migration's result and the three Procfile processes."""

    def __init__(self, bundle: Path, env: dict, logs: Path):
        self.bundle, self.env, self.logs = bundle, env, logs
        self.port = int(env["GUNICORN_BIND"].rsplit(":", 1)[1])
        self.migration: subprocess.CompletedProcess | None = None
        self.processes: dict[str, subprocess.Popen] = {}
        self.started: dict[str, float] = {}

    def migrate(self, venv: Path) -> None:
        """The leader's container command, as written: only the platform's venv path is replaced by ours."""
        config = yaml.safe_load((ROOT / ".ebextensions" / "04_migrate.config").read_text())
        command = config["container_commands"]["01_migrate"]["command"]
        assert EB_VENV in command, command
        env = {**self.env, "PATH": "/usr/local/bin:/usr/bin:/bin"}  # the command activates the venv itself
        self.migration = subprocess.run(["bash", "-c", command.replace(EB_VENV, str(venv))], cwd=self.bundle,
                                        env=env, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        for name, argv in procfile().items():
            log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
            self.processes[name] = subprocess.Popen(argv, cwd=self.bundle, env=self.env, stdout=log,
                                                    stderr=subprocess.STDOUT)
            self.started[name] = time.monotonic()
            log.close()

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def records(self, name: str) -> list[dict]:
        lines = []
        for line in self.log(name).splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return lines

    def stop(self, name: str, timeout: float = 40) -> int | None:
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                return None
        return process.returncode


def procfile() -> dict[str, list[str]]:
    lines = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()]
    return {name.strip(): shlex.split(command) for name, command in (line.split(":", 1) for line in lines)}


@pytest.fixture(scope="module")
def stack(database, limits_redis, parity_venv, tmp_path_factory) -> Stack:
    root = tmp_path_factory.mktemp("parity")
    for name in ("bundle", "home", "logs"):
        (root / name).mkdir()
    env = production_environment(parity_venv, root / "home", database, REDIS)
    env.update(GUNICORN_BIND=f"127.0.0.1:{_free_port()}", WEB_CONCURRENCY="1")
    deployed = Stack(copy_bundle(root / "bundle"), env, root / "logs")
    deployed.migrate(parity_venv)
    if deployed.migration.returncode == 0:
        _queue_an_outbox_message(database)
        deployed.start()
    yield deployed
    for name in deployed.processes:
        deployed.stop(name, timeout=10)


def _queue_an_outbox_message(database_url: str) -> None:
    """A committed outbox row (as a request's transaction leaves it), so the relay has something to publish."""
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO outbox_messages (id, type, queue, payload) VALUES (%s, %s, %s, %s)",
                    (str(uuid.uuid4()), "parity.probe_sent", "domain-events", "{}"))
    conn.close()


def _get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _require_migrated(stack: Stack, full: bool = False) -> None:
    """Nothing is deployed when the leader's migration fails (EB stops there); say why once in full."""
    result = stack.migration
    output = f"{result.stdout}{result.stderr}".strip() or "(no output)"
    assert result.returncode == 0, "the leader's migration command failed:\n" + \
        (output if full else output.splitlines()[-1])


# The checks ----------------------------------------------------------------------------------------------------

def test_the_leader_migration_command_migrates_a_fresh_database(stack, database):
    _require_migrated(stack, full=True)
    conn = psycopg2.connect(database)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT version_num FROM alembic_version")
        assert cur.fetchone(), "no alembic_version row after `flask db upgrade`"
    conn.close()


def test_web_serves_health_and_refuses_a_request_without_a_token(stack):
    _require_migrated(stack)
    body = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and stack.processes["web"].poll() is None:
        try:
            status, body = _get(stack.port, "/health")
            break
        except OSError:
            time.sleep(0.2)
    assert body == {"status": {"code": 200, "message": "Success"}, "data": {"database": "ok"}}, stack.log("web")
    assert status == 200
    status, body = _get(stack.port, "/users")
    assert status == 401 and body["status"]["code"] == 401 and body["data"] is None, body


def test_rate_limits_are_counted_in_redis(stack, parity_venv, limits_redis):
    """The limiter that production builds (redis://) reaches Redis and stores a counter there."""
    _require_migrated(stack)
    key = LIMIT_KEY
    script = ("import sys; from limits import parse; from application import application\n"
              "limiter = next(iter(application.extensions['limiter']))\n"
              "assert limiter.storage.check(), 'rate-limit storage does not answer'\n"
              "assert limiter.limiter.hit(parse('5/minute'), sys.argv[1])\n"
              "print(type(limiter.storage).__name__)")
    result = subprocess.run([str(parity_venv / "bin" / "python"), "-c", script, key], cwd=stack.bundle,
                            env=stack.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "RedisStorage"
    keys = list(limits_redis.scan_iter(match=f"*{key}*"))
    assert keys, f"no rate-limit counter for {key} in {REDIS}"


def test_worker_and_relay_keep_retrying_while_aws_is_unreachable(stack, database):
    _require_migrated(stack)
    worker, relay = stack.processes["worker"], stack.processes["relay"]
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and worker.poll() is None and relay.poll() is None:
        alive = min(time.monotonic() - stack.started[name] for name in ("worker", "relay"))
        if alive >= ALIVE_SECONDS and _retried(stack):
            break
        time.sleep(0.5)
    assert worker.poll() is None, f"the worker died while AWS was unreachable:\n{stack.log('worker')[-6000:]}"
    assert relay.poll() is None, f"the relay died while AWS was unreachable:\n{stack.log('relay')[-6000:]}"
    assert _retried(stack), f"no retries logged:\nworker:\n{stack.log('worker')[-3000:]}\n" \
                            f"relay:\n{stack.log('relay')[-3000:]}"
    conn = psycopg2.connect(database)
    with conn, conn.cursor() as cur:  # the relay kept the message, counted the attempts and backed off
        cur.execute("SELECT attempts, last_error, sent_at, EXTRACT(EPOCH FROM available_at - occurred_at) "
                    "FROM outbox_messages")
        attempts, last_error, sent_at, postponed = cur.fetchone()
    conn.close()
    assert attempts >= 2 and sent_at is None and "Proxy" in last_error, (attempts, last_error)
    # attempt n waits 2**n seconds after failing, so after n failures the row is due no sooner than 2 + 4 + … + 2**n
    assert postponed >= 2 ** (attempts + 1) - 2, (attempts, postponed)


def _retried(stack: Stack) -> bool:
    """Each consumer loop failed to receive at least twice, and the relay failed to publish at least twice."""
    failures = [r.get("queue") for r in stack.records("worker") if r.get("msg") == "receive failed"]
    relay = [r for r in stack.records("relay") if str(r.get("msg", "")).startswith("relay: SQS unavailable")]
    queues = {"notifications", "domain-events", "orders"}
    return all(failures.count(queue) >= 2 for queue in queues) and len(relay) >= 2


def test_each_process_exits_cleanly_on_sigterm(stack):
    _require_migrated(stack)
    codes = {name: stack.stop(name) for name in ("web", "worker", "relay")}
    assert codes == {"web": 0, "worker": 0, "relay": 0}, {n: stack.log(n)[-2000:] for n in codes}
    messages = {name: [r.get("msg") for r in stack.records(name)] for name in ("worker", "relay")}
    assert "worker stopped" in messages["worker"] and "relay stopped" in messages["relay"], messages
