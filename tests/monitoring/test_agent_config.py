"""The deployment wires the metrics: the CloudWatch agent listens for EMF where the app sends it."""

import json
import re
from pathlib import Path

import yaml

from torium_api.config import load_config
from torium_api.monitoring.metrics import Emitter

EBEXTENSIONS = Path(__file__).resolve().parents[2] / ".ebextensions"


def _agent_config() -> dict:
    config = yaml.safe_load((EBEXTENSIONS / "06_process_logs.config").read_text())
    [(_, spec)] = config["files"].items()
    return json.loads(re.sub(r"`([^`]*)`", "evaluated-by-eb", spec["content"]))  # EB evaluates `{...}` functions


def test_the_agent_listens_for_emf_and_still_streams_the_process_logs():
    logs = _agent_config()["logs"]
    # {} = the agent's default listeners, udp://127.0.0.1:25888 and tcp://127.0.0.1:25888 on EC2
    # (aws/amazon-cloudwatch-agent translator/translate/logs/metrics_collected/emf)
    assert logs["metrics_collected"] == {"emf": {}}
    assert [c["file_path"] for c in logs["logs_collected"]["files"]["collect_list"]] == [
        "/var/log/worker.stdout.log", "/var/log/relay.stdout.log"]


def test_production_sends_metrics_to_that_listener_in_a_log_group_the_instance_role_may_write():
    options = yaml.safe_load((EBEXTENSIONS / "01_environment.config").read_text())["option_settings"]
    environment = options["aws:elasticbeanstalk:application:environment"]
    config = load_config({k: str(v) for k, v in environment.items()})
    emitter = Emitter(config["METRICS_NAMESPACE"], config["METRICS_EMF_ENDPOINT"], config["METRICS_LOG_GROUP"])
    assert emitter.target == ("udp", "127.0.0.1", 25888)
    assert config["METRICS_NAMESPACE"] == "Torium"
    assert config["METRICS_LOG_GROUP"].startswith("/aws/elasticbeanstalk/")  # infra/iam.yaml StreamedLogs


def test_without_an_endpoint_metrics_go_to_stdout_only():
    config = load_config({"TORIUM_ENV": "development"})
    assert config["METRICS_EMF_ENDPOINT"] is None
