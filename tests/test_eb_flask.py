"""bin/eb-flask: the environment properties that get-config prints reach the flask process unchanged.

The platform's two paths are replaced by a fake get-config (a script printing JSON) and a real, empty
virtualenv whose `flask` reports what it received; a last test runs the real app from the production venv.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_parity import copy_bundle, parity_venv  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bin" / "eb-flask"
SHELL_PATH = "/usr/local/bin:/usr/bin:/bin"  # what an `eb ssh` + sudo shell has: no venv, no properties
NASTY = {
    "DATABASE_URL": "postgresql://torium:p@ss w0rd$HOME'\"`id`$(id)\\@db.internal:5432/torium",
    "SES_SENDER": "Torium <no-reply@torium.example>",
    "MULTILINE": "first line\nsecond\tline; echo pwned",
    "UNICODE": "zażółć gęślą jaźń",
    "EMPTY": "",
    "WITH_EQUALS": "a=b=c",
    "TORIUM_ENV": "production",
}
SPY = """#!{python}
import json, os, sys
print(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}}))
"""


def _get_config(tmp_path: Path, properties: dict | str, status: int = 0) -> Path:
    data = tmp_path / "properties.json"
    data.write_text(properties if isinstance(properties, str) else json.dumps(properties))
    script = tmp_path / "get-config"
    script.write_text(f'#!/bin/sh\n[ "$1" = environment ] || exit 2\ncat "{data}"\nexit {status}\n')
    script.chmod(0o755)
    return script


def _fake_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv" / "staging-LQM1lest"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    flask = venv / "bin" / "flask"
    flask.write_text(SPY.format(python=venv / "bin" / "python"))
    flask.chmod(0o755)
    return venv


def _run(tmp_path: Path, get_config: Path, args: list[str], venv_glob: str | None = None, app_dir=None):
    app_dir = app_dir or tmp_path / "current"
    app_dir.mkdir(exist_ok=True)
    env = {"PATH": SHELL_PATH, "HOME": str(tmp_path), "LANG": "C.UTF-8", "DATABASE_URL": "from the caller",
           "EB_GET_CONFIG": str(get_config), "EB_VENV_GLOB": venv_glob or str(tmp_path / "venv" / "*"),
           "EB_APP_DIR": str(app_dir)}
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)


def test_the_script_is_executable_and_committed_so():
    assert os.stat(SCRIPT).st_mode & 0o755 == 0o755
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-s", "bin/eb-flask"], capture_output=True,
                             text=True).stdout
    if tracked:  # not a git checkout, or not committed yet: the file mode above is all there is
        assert tracked.startswith("100755 "), tracked


def test_properties_arrive_in_flasks_environment_exactly(tmp_path):
    venv = _fake_venv(tmp_path)
    result = _run(tmp_path, _get_config(tmp_path, NASTY), ["queues", "dlq", "two words", "--limit", "5"])
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert {name: seen["env"].get(name) for name in NASTY} == NASTY
    assert seen["argv"] == ["--app", "application", "queues", "dlq", "two words", "--limit", "5"]
    assert seen["cwd"] == str(tmp_path / "current")
    assert seen["env"]["VIRTUAL_ENV"] == str(venv)  # activated: the venv's bin comes first
    assert seen["env"]["PATH"].split(":")[0] == str(venv / "bin")
    assert "EB_FLASK_PROPERTIES" not in seen["env"]


def test_it_stops_when_get_config_fails(tmp_path):
    _fake_venv(tmp_path)
    result = _run(tmp_path, _get_config(tmp_path, "", status=1), ["queues", "depth"])
    assert result.returncode == 1 and "get-config" in result.stderr and not result.stdout


@pytest.mark.parametrize("printed", ["not json", '["a list"]'])
def test_it_stops_when_get_config_prints_no_json_object(tmp_path, printed):
    _fake_venv(tmp_path)
    result = _run(tmp_path, _get_config(tmp_path, printed), ["queues", "depth"])
    assert result.returncode == 1 and "did not print a JSON object" in result.stderr and not result.stdout


def test_it_stops_without_exactly_one_virtualenv(tmp_path):
    result = _run(tmp_path, _get_config(tmp_path, NASTY), ["queues", "depth"])
    assert result.returncode == 1 and "expected one virtualenv" in result.stderr


def test_it_runs_the_real_app_with_the_production_properties(tmp_path, parity_venv):  # noqa: F811
    """The production venv and a copy of the bundle, as on an instance: `eb-flask routes` builds the app."""
    properties = {"TORIUM_ENV": "production", "DATABASE_URL": "postgresql://torium:p$w'd@127.0.0.1:9/torium",
                  "COGNITO_USER_POOL_ID": "eu-central-1_AbCdEf123", "COGNITO_APP_CLIENT_IDS": "3n4b5urk1ft4fl3m",
                  "SES_SENDER": "no-reply@torium.example", "CORS_ORIGINS": "https://admin.torium.example",
                  "SNS_PLATFORM_APPLICATION_ARN": "arn:aws:sns:eu-central-1:123456789012:app/GCM/torium-fcm",
                  "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:9/0", "AWS_REGION": "eu-central-1",
                  "PAYMENT_WEBHOOK_SECRET": "whsec_eb_flask_not_a_real_secret"}
    (tmp_path / "bundle").mkdir()
    bundle = copy_bundle(tmp_path / "bundle")
    result = _run(tmp_path, _get_config(tmp_path, properties), ["routes"], venv_glob=str(parity_venv),
                  app_dir=bundle)
    assert result.returncode == 0, result.stderr
    assert "health.Health" in result.stdout and "/health" in result.stdout
    listed = _run(tmp_path, _get_config(tmp_path, properties), ["--help"], venv_glob=str(parity_venv), app_dir=bundle)
    commands = {line.split()[0] for line in listed.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert {"db", "outbox", "worker", "queues", "organizations", "ops"} <= commands, listed.stdout
    assert not commands & {"dev-token", "seed", "notifications"}, commands  # development only (torium_api.dev)
