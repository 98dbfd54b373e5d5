"""Crash soak (`make soak-crash`, or `SOAK_CRASH=1 make soak`): the background processes die and come back.

The relay and the worker run as real processes (`flask --app application outbox relay` / `worker run`) and are
killed with SIGKILL at random moments and restarted, while orders, deposits, withdrawals, invitations and event
edits run over HTTP (the test client, as in the plain soak). The soak has its own embedded PostgreSQL, stopped and
started once mid-run (never the machine's shared server). Then the load stops, the processes finish what is left,
stop on SIGTERM with exit code 0, and every invariant must hold: stock, ledgers, one payment per order, reminders
announced once, nothing unsent, nothing unhandled, nothing dead-lettered, every order in a final state.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import flask_migrate
import psycopg2
import pytest
from sqlalchemy import func, select

from tests.factories import TokenFactory
from tests.soak.world import Load, build, check_invariants
from torium_api import aws, create_app, queues
from torium_api.dev import local_aws
from torium_api.extensions import db
from torium_api.orders.models import IN_PROGRESS, Order
from torium_api.outbox.models import OutboxMessage, ProcessedMessage

pytestmark = [pytest.mark.soak,
              pytest.mark.skipif(os.environ.get("SOAK_CRASH") != "1", reason="the crash soak runs with SOAK_CRASH=1")]
ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("SOAK_SECONDS", "20"))
SEED = int(os.environ.get("SOAK_SEED", "7"))
PG_DOWN_SECONDS = 3.0
RECOVERY_GRACE_SECONDS = 5.0  # after PostgreSQL is back, requests must succeed again within this
SETTLE_SECONDS = 180
BACKGROUND_SETTINGS = {  # the processes' settings: quick polls, retries and beats for a short run
    "QUEUE_MAX_RECEIVES": "10", "QUEUE_VISIBILITY_TIMEOUT": "10", "WORKER_WAIT_SECONDS": "1",
    "WORKER_RETRY_BASE_SECONDS": "1", "SCHEDULER_INTERVAL_SECONDS": "1", "HEARTBEAT_SECONDS": "2",
    "RELAY_IDLE_SECONDS": "0.1", "WORKER_STALL_SECONDS": "60", "LOG_LEVEL": "WARNING",
}


class SoakPostgres:
    """The soak's own embedded PostgreSQL (pgserver), which it may stop and start."""

    def __init__(self, data_dir: Path):
        import pgserver

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.server = pgserver.get_server(data_dir, cleanup_mode="stop")

    def fresh_database(self, name: str) -> str:
        admin = psycopg2.connect(self.server.get_uri())
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
        admin.close()
        return self.server.get_uri(name).replace("postgresql://", "postgresql+psycopg2://", 1)

    def stop(self) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)

    def start(self) -> None:
        with self.server._lock:
            self.server.ensure_postgres_running()


class Process:
    """One Procfile process: started, killed and restarted by the chaos; its output kept in a log file."""

    def __init__(self, name: str, command: list[str], env: dict, log_dir: Path):
        self.name, self.command, self.env = name, command, env
        self.log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - kept open across restarts
        self.proc: subprocess.Popen | None = None
        self.kills = self.starts = 0
        self.own_exits: list[int] = []  # exit codes of exits nobody asked for (a stall exits 3)
        self._lock = threading.Lock()

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "application", *self.command],
                                     cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.starts += 1

    def kill(self) -> None:
        with self._lock:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.kills += 1

    def keep_running(self) -> None:
        with self._lock:
            code = self.proc.poll()
            if code is not None:
                if code != -signal.SIGKILL:
                    self.own_exits.append(code)
                self.start()

    def terminate(self) -> int:
        with self._lock:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=90)


@pytest.fixture
def crash_app(test_config, aws_endpoint):
    postgres = SoakPostgres(ROOT / "instance" / "pgsoak")
    url = postgres.fresh_database(f"crash_{os.getpid()}")
    settings = {"QUEUE_MAX_RECEIVES": 10, "QUEUE_VISIBILITY_TIMEOUT": 10}
    app = create_app({**test_config, "DATABASE_URL": url, "QUEUE_PREFIX": f"c{uuid.uuid4().hex[:8]}-", **settings})
    with app.app_context():
        flask_migrate.upgrade()
        app.config.update(local_aws.provision())
    yield app, postgres
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _background_processes(app, tmp_path: Path) -> list[Process]:
    env = {**os.environ, **BACKGROUND_SETTINGS, "TORIUM_ENV": "development",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "AWS_ENDPOINT_URL": app.config["AWS_ENDPOINT_URL"],
           "QUEUE_PREFIX": app.config["QUEUE_PREFIX"], "SES_SENDER": app.config["SES_SENDER"],
           "SNS_PLATFORM_APPLICATION_ARN": app.config["SNS_PLATFORM_APPLICATION_ARN"]}
    env.pop("AWS_ACCESS_KEY_ID", None)
    processes = [Process("relay", ["outbox", "relay"], env, tmp_path),
                 Process("worker", ["worker", "run"], env, tmp_path)]
    for process in processes:
        process.start()
    return processes


def _chaos(processes: list[Process], stop: threading.Event, rng: random.Random) -> None:
    """SIGKILL a random process every 1–4 s and restart it 0–1 s later; restart any that exited by itself."""
    while not stop.wait(rng.uniform(1.0, 4.0)):
        victim = rng.choice(processes)
        victim.kill()
        stop.wait(rng.uniform(0.0, 1.0))
        for process in processes:
            process.keep_running()


def _settled(app, sqs) -> dict:
    with app.app_context():
        scalar = db.session.scalar
        figures = {
            "orders_in_progress": scalar(select(func.count()).select_from(Order).where(Order.status.in_(IN_PROGRESS))),
            "outbox_unsent": scalar(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.sent_at.is_(None))),
            "outbox_unhandled": scalar(select(func.count()).select_from(OutboxMessage)
                                       .where(OutboxMessage.id.not_in(select(ProcessedMessage.id)))),
        }
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        for queue in queues.ALL:
            attributes = sqs.get_queue_attributes(QueueUrl=queues.url(queue), AttributeNames=names)["Attributes"]
            figures[f"sqs_{queue.key}"] = sum(int(attributes[n]) for n in names)
    return figures


def _dead_letters(app, sqs) -> dict:
    with app.app_context():
        return {q.key: int(sqs.get_queue_attributes(QueueUrl=queues.dlq_url(q), AttributeNames=[
            "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]) for q in queues.ALL}


def test_crashes_and_a_database_restart_lose_nothing(crash_app, tmp_path):
    app, postgres = crash_app
    rng = random.Random(SEED)
    with app.app_context():
        sqs = aws.client("sqs")
    world = build(app, app.test_client(), TokenFactory(app), rng)
    processes = _background_processes(app, tmp_path)
    stop_chaos = threading.Event()
    chaos = threading.Thread(target=_chaos, args=(processes, stop_chaos, random.Random(SEED + 1)))
    load = Load(app, world, rng).start()
    chaos.start()
    time.sleep(SECONDS / 2)
    outage_start = time.monotonic()
    postgres.stop()
    time.sleep(PG_DOWN_SECONDS)
    postgres.start()
    outage_end = time.monotonic()
    time.sleep(SECONDS / 2)
    load.stop()
    stop_chaos.set()
    chaos.join()

    deadline, figures = time.monotonic() + SETTLE_SECONDS, {}
    while time.monotonic() < deadline:
        for process in processes:
            process.keep_running()
        figures = _settled(app, sqs)
        if not any(figures.values()):
            break
        time.sleep(0.5)
    status = subprocess.run([sys.executable, "-m", "flask", "--app", "application", "ops", "status"], cwd=ROOT,
                            env=processes[0].env, capture_output=True, text=True, timeout=120)
    codes = {process.name: process.terminate() for process in processes}
    logs = {p.name: (tmp_path / f"{p.name}.log").read_text(errors="replace")[-3000:] for p in processes}

    window = (outage_start, outage_end + RECOVERY_GRACE_SECONDS)
    outside = [s for moment, s in load.statuses if s >= 500 and not window[0] <= moment <= window[1]]
    inside = [s for moment, s in load.statuses if s >= 500 and window[0] <= moment <= window[1]]
    errors_outside = [e for moment, e in load.errors if not window[0] <= moment <= window[1]]
    last_failure = max([m for m, s in load.statuses if s >= 500] + [m for m, _ in load.errors], default=outage_end)
    print(f"\ncrash soak: {len(load.statuses)} requests in {SECONDS:.0f} s "
          f"(statuses {sorted({s for _, s in load.statuses})}; 5xx while PostgreSQL was down or recovering: "
          f"{len(inside)}, request errors then: {len(load.errors) - len(errors_outside)}); "
          + "; ".join(f"{p.name}: {p.kills} SIGKILLs, {p.starts} starts, own exits {p.own_exits}"
                      for p in processes)
          + f"; PostgreSQL down {outage_end - outage_start:.1f} s once, the last failed request "
          f"{last_failure - outage_end:+.1f} s after it was back; exit codes on SIGTERM {codes}")
    print(f"flask ops status after the soak:\n{status.stdout}{status.stderr[-2000:]}")
    assert not any(figures.values()), (figures, logs)
    assert codes == {"relay": 0, "worker": 0}, logs
    assert outside == [] and errors_outside == [], (outside[:5], errors_outside[:3])
    assert _dead_letters(app, sqs) == {q.key: 0 for q in queues.ALL}
    assert sum(p.kills for p in processes) >= 2
    with app.app_context():
        check_invariants(world.products, world.event_ids)
