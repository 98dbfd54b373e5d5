"""The deploy path that can be checked here: templates, Procfile, .ebextensions, gunicorn, config, logs."""

import io
import json
import logging
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from torium_api import create_app
from torium_api.config import REQUIRED_IN_PRODUCTION, ConfigError, load_config, validate
from torium_api.logs import json_handler

ROOT = Path(__file__).resolve().parent.parent


def _ebextensions_resources_as_a_template() -> dict:
    """The .ebextensions Resources in a template cfn-lint can read: EB's load balancer stubbed in, and each
    Fn::GetOptionSetting (EB-only) turned into a parameter."""
    def plain(node):
        if isinstance(node, dict):
            if set(node) == {"Fn::GetOptionSetting"}:
                return {"Ref": "Option" + node["Fn::GetOptionSetting"]["OptionName"]}
            return {k: plain(v) for k, v in node.items()}
        return [plain(v) for v in node] if isinstance(node, list) else node

    resources = {}
    for config in sorted((ROOT / ".ebextensions").glob("*.config")):
        resources.update(plain(yaml.safe_load(config.read_text()).get("Resources") or {}))
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"OptionAlarmTopicArn": {"Type": "String"}, "OptionAlb5xxRatePercent": {"Type": "Number"}},
        "Resources": {"AWSEBV2LoadBalancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                                              "Properties": {"Subnets": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]}},
                      **resources},
    }


def test_every_cloudformation_template_passes_cfn_lint(tmp_path):
    templates = sorted(str(p) for p in (ROOT / "infra").glob("*.yaml"))
    assert [Path(t).stem for t in templates] == ["alerts", "cache", "cognito", "database", "environment", "iam",
                                                 "monitoring", "network", "queues", "storage"]
    ebextensions = tmp_path / "ebextensions-resources.json"
    ebextensions.write_text(json.dumps(_ebextensions_resources_as_a_template()))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), *templates, str(ebextensions)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _procfile() -> dict:
    lines = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()]
    assert lines[0].startswith("web:"), "web must be the first Procfile entry"
    return {name: shlex.split(command) for name, command in (line.split(":", 1) for line in lines)}


def _flask_command_resolves(app, argv: list[str]) -> None:
    assert argv[:3] == ["flask", "--app", "application"], argv
    result = app.test_cli_runner().invoke(args=[*argv[3:], "--help"])
    assert result.exit_code == 0, (argv, result.output)


def test_the_procfile_runs_web_worker_and_relay_with_commands_that_exist(app):
    processes = _procfile()
    assert set(processes) == {"web", "worker", "relay"}
    web = processes["web"]
    assert web[:3] == ["gunicorn", "--config", "gunicorn.conf.py"] and web[-1] == "application:application"
    assert (ROOT / "gunicorn.conf.py").exists()
    for name in ("worker", "relay"):
        _flask_command_resolves(app, processes[name])


def test_ebextensions_are_valid_yaml_and_their_commands_exist(app):
    configs = {p.name: yaml.safe_load(p.read_text()) for p in (ROOT / ".ebextensions").glob("*.config")}
    migrate = configs["04_migrate.config"]["container_commands"]["01_migrate"]
    assert migrate["leader_only"] is True
    flask_part = migrate["command"].split("&&", 1)[1].strip()
    _flask_command_resolves(app, shlex.split(flask_part))
    options = {k: v for c in configs.values() for k, v in (c.get("option_settings") or {}).items()}
    assert options["aws:elasticbeanstalk:environment:process:default"]["HealthCheckPath"] == "/health"
    assert options["aws:elasticbeanstalk:healthreporting:system"]["SystemType"] == "enhanced"
    assert options["aws:elasticbeanstalk:cloudwatch:logs"]["StreamLogs"] is True
    health_rules = json.loads(options["aws:elasticbeanstalk:healthreporting:system"]["ConfigDocument"])
    assert health_rules["Rules"]["Environment"]["Application"]["ApplicationRequests4xx"]["Enabled"] is False
    https = configs["03_https.config"]["Resources"]
    assert https["AWSEBV2LoadBalancerListener"]["Properties"]["DefaultActions"][0]["Type"] == "redirect"
    assert set(https) == {"AWSEBV2LoadBalancerListener"}  # 443 comes from option settings (infra/environment.yaml)
    assert options["aws:elasticbeanstalk:application:environment"]["TORIUM_ENV"] == "production"
    agent = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a append-config"
    [stream, cleanup] = configs["06_process_logs.config"]["container_commands"].values()
    assert stream["command"].startswith(agent) and "leader_only" not in stream and cleanup["ignoreErrors"] is True
    assert configs["05_alarms.config"]["Resources"]["ToriumAlb5xxRate"]["Type"] == "AWS::CloudWatch::Alarm"


def test_platform_hooks_are_executable():
    for hook in (ROOT / ".platform").rglob("hooks/**/*"):
        if hook.is_file():
            assert os.access(hook, os.X_OK), hook


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_serves_the_app_as_the_procfile_starts_it(database_url):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
           "LOG_LEVEL": "WARNING", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # as in EB's venv
    command = _procfile()["web"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    body = json.load(response)
                    break
            except OSError:
                time.sleep(0.1)
        assert body == {"status": {"code": 200, "message": "Success"}, "data": {"database": "ok"}}
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert server.returncode == 0, output


PRODUCTION = {
    "TORIUM_ENV": "production", "DATABASE_URL": "postgresql://u:secret-pw@db.internal/torium",
    "COGNITO_USER_POOL_ID": "eu-central-1_AbCdEf123", "COGNITO_APP_CLIENT_IDS": "3n4b5urk1ft4fl3mg5e62d9ado",
    "SES_SENDER": "no-reply@torium.example", "RATELIMIT_STORAGE_URI": "redis://cache.internal:6379/0",
    "SNS_PLATFORM_APPLICATION_ARN": "arn:aws:sns:eu-central-1:123456789012:app/GCM/torium-fcm",
    "CORS_ORIGINS": "https://admin.torium.example", "PAYMENT_WEBHOOK_SECRET": "whsec_3f9c1e7a0b5d4c2e8f6a9b1d",
}


def test_a_complete_production_configuration_is_accepted():
    validate(load_config(PRODUCTION))


@pytest.mark.parametrize("name", REQUIRED_IN_PRODUCTION)
def test_each_required_production_setting_is_checked(name):
    with pytest.raises(ConfigError, match=f"{name} is required in production"):
        validate(load_config({k: v for k, v in PRODUCTION.items() if k != name}))


@pytest.mark.parametrize("name, value, message", [
    ("DATABASE_URL", "sqlite:///x.db", "must be a postgresql:// URL"),
    ("COGNITO_USER_POOL_ID", "not-a-pool", "is not a pool id"),
    ("SNS_PLATFORM_APPLICATION_ARN", "torium-fcm", "must be an SNS ARN"),
    ("SES_SENDER", "nobody", "must be an e-mail address"),
    ("RATELIMIT_STORAGE_URI", "memory://", "must be shared storage"),
    ("CORS_ORIGINS", "*", "must list origins explicitly"),
    ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000", "must be unset in production"),
])
def test_malformed_production_settings_are_named(name, value, message):
    with pytest.raises(ConfigError, match=message) as error:
        validate(load_config({**PRODUCTION, name: value}))
    assert "secret-pw" not in str(error.value)


def test_development_needs_nothing():
    validate(load_config({"TORIUM_ENV": "development"}))


@pytest.mark.parametrize("environment", [{}, {"TORIUM_ENV": ""}, {"TORIUM_ENV": "dev"}, {"TORIUM_ENV": "staging"}])
def test_anything_but_development_is_production(environment):
    """Fail closed: without TORIUM_ENV=development no local issuer, embedded database or moto endpoint."""
    config = load_config(environment)
    with pytest.raises(ConfigError, match="TORIUM_ENV is .*anything but development is production") as error:
        validate(config)
    assert "COGNITO_USER_POOL_ID is required" in str(error.value) and "DATABASE_URL is required" in str(error.value)
    assert config["CORS_ORIGINS"] == [] and config["RATELIMIT_STORAGE_URI"] is None


def test_an_app_without_a_pool_outside_development_never_trusts_a_local_key(test_config):
    settings = {**test_config, "TORIUM_ENV": "production", "COGNITO_USER_POOL_ID": None}
    with pytest.raises(ConfigError, match="COGNITO_USER_POOL_ID is required"):
        create_app(settings)


def test_the_local_aws_endpoint_marker_is_read_only_in_development(tmp_path):
    (tmp_path / "local-aws-endpoint").write_text("http://127.0.0.1:5999")
    assert load_config({"TORIUM_ENV": "development"}, instance_path=tmp_path)["AWS_ENDPOINT_URL"] == \
        "http://127.0.0.1:5999"
    assert load_config(PRODUCTION, instance_path=tmp_path)["AWS_ENDPOINT_URL"] is None


def test_the_client_address_comes_from_the_proxies_not_a_spoofed_header(test_config):
    """ALB appends the client, nginx appends the ALB: with 2 trusted hops a forged first entry is ignored."""
    app = create_app({**test_config, "TRUSTED_PROXY_HOPS": 2})
    seen = {}

    def capture(environ, start_response):
        seen["addr"] = environ["REMOTE_ADDR"]
        start_response("200 OK", [])
        return [b""]

    app.wsgi_app.app = capture  # keep the ProxyFix create_app installed, look at what it passes on
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7, 10.0.0.5",
               "REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.url_scheme": "http"}
    list(app.wsgi_app(environ, lambda *args: None))
    assert seen["addr"] == "203.0.113.7"


def test_log_lines_are_json_with_request_and_user(client, user):
    stream = io.StringIO()
    handler = json_handler(stream)
    access = logging.getLogger("torium_api.access")
    access.addHandler(handler)
    previous = access.level
    access.setLevel(logging.INFO)
    try:
        client.get("/users", headers={**user[1], "X-Request-ID": "req-12345678"})
    finally:
        access.removeHandler(handler)
        access.setLevel(previous)
    [line] = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["msg"] == "request" and line["request_id"] == "req-12345678" and line["user_id"] == user[0]
    assert line["method"] == "GET" and line["path"] == "/users" and line["status"] == 200
    assert isinstance(line["duration_ms"], float) and "Authorization" not in stream.getvalue()
