"""Rate limits as production keeps them: in a shared Redis, so every process and instance counts together, and
a Redis outage neither breaks requests nor lifts the limits (each process counts alone until Redis is back).

Each app runs in its own process (the limiter is one per process, as under gunicorn). Needs the Redis that CI
and this machine run on 127.0.0.1:6379; elsewhere it skips, unless TORIUM_PARITY_REQUIRED=1 (.ci/run).
"""

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS = ("127.0.0.1", 6379)
LOOKUPS = """
import json, sys
from torium_api import create_app
config, token, count = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
client = create_app(config).test_client()
headers = {"Authorization": f"Bearer {token}", "trm-email": "nobody@example.com"}
print(json.dumps([client.get("/users/email", headers=headers).status_code for _ in range(count)]))
"""


def _redis_or_skip() -> None:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError as exc:
        reason = f"no Redis on {REDIS[0]}:{REDIS[1]} ({exc})"
        if os.environ.get("TORIUM_PARITY_REQUIRED") == "1":
            pytest.fail(f"{reason}; TORIUM_PARITY_REQUIRED=1 (CI) needs it")
        pytest.skip(reason)


def _lookups(config: dict, token: str, count: int) -> list[int]:
    result = subprocess.run([sys.executable, "-c", LOOKUPS, json.dumps(config), token, str(count)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def limited(test_config, tokens) -> tuple[dict, str]:
    """Settings for an app limited to 3 e-mail look-ups a minute, and a token for one user."""
    config = {key: value for key, value in test_config.items() if key != "TESTING"}
    return {**config, "RATELIMIT_EMAIL_LOOKUP": "3/minute", "RATELIMIT_KEY_PREFIX": f"t{uuid.uuid4().hex[:8]}"}, \
        tokens.token("limited@example.com")


def test_limits_hold_across_processes_through_redis(limited):
    _redis_or_skip()
    config, token = limited
    shared = {**config, "RATELIMIT_STORAGE_URI": f"redis://{REDIS[0]}:{REDIS[1]}/12"}
    assert _lookups(shared, token, 2) == [404, 404]  # first process: two of three
    assert _lookups(shared, token, 2) == [404, 429]  # another process sees them: one left, then refused


def test_a_redis_outage_neither_fails_requests_nor_lifts_the_limits(limited):
    config, token = limited
    dead = {**config, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}  # nothing listens on port 1
    assert _lookups(dead, token, 4) == [404, 404, 404, 429]


def test_production_refuses_memory_storage():
    from tests.test_deploy import PRODUCTION
    from torium_api.config import ConfigError, load_config, validate

    with pytest.raises(ConfigError, match="must be shared storage"):
        validate(load_config({**PRODUCTION, "RATELIMIT_STORAGE_URI": "memory://"}))
