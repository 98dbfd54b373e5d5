"""The metric lines against the embedded metric format specification, and their trip to the CloudWatch agent.

The schema is the one published with the specification ("Specification: Embedded metric format", Amazon
CloudWatch User Guide), plus the rules it states in prose that a schema cannot: every referenced dimension and
metric is a top-level member, dimension values are strings, metric values numbers, one line per document.
"""

import json
import socket
import threading
import time

import jsonschema
import pytest

from torium_api import clock, create_app
from torium_api.monitoring import metrics
from torium_api.monitoring.metrics import Emitter

NAME = {"type": "string", "minLength": 1, "maxLength": 255}
UNIT = ("^(Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|Kilobits|Megabits"
        "|Gigabits|Terabits|Percent|Count|Bytes\\/Second|Kilobytes\\/Second|Megabytes\\/Second|Gigabytes\\/Second"
        "|Terabytes\\/Second|Bits\\/Second|Kilobits\\/Second|Megabits\\/Second|Gigabits\\/Second|Terabits\\/Second"
        "|Count\\/Second|None)$")
EMF_SCHEMA = {
    "type": "object", "required": ["_aws"],
    "properties": {"_aws": {
        "type": "object", "required": ["Timestamp", "CloudWatchMetrics"],
        "properties": {
            "Timestamp": {"type": "integer"},
            "CloudWatchMetrics": {"type": "array", "items": {
                "type": "object", "required": ["Namespace", "Dimensions", "Metrics"],
                "properties": {
                    "Namespace": NAME,
                    "Dimensions": {"type": "array", "minItems": 1,
                                   "items": {"type": "array", "minItems": 0, "maxItems": 9, "items": NAME}},
                    "Metrics": {"type": "array", "maxItems": 100, "items": {
                        "type": "object", "required": ["Name"],
                        "properties": {"Name": NAME, "Unit": {"type": "string", "pattern": UNIT}}}},
                }}},
        }}},
}


def assert_emf(document: dict) -> None:
    """The specification's schema and its target-member rules."""
    jsonschema.validate(document, EMF_SCHEMA)
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:
                assert isinstance(document.get(key), str), f"dimension {key} must be a top-level string"
        for metric in directive["Metrics"]:
            value = document.get(metric["Name"])
            assert isinstance(value, int | float) and not isinstance(value, bool), metric["Name"]


def _lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]


def test_the_heartbeat_line_keeps_the_alarm_contract(app, capsys):
    metrics.heartbeat(app, "consumer", loop="consumer:orders", host="ip-10-0-0-1", pid=42)
    [line] = _lines(capsys)
    assert_emf(line)
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive == {"Namespace": "Torium", "Dimensions": [["Component"]],
                         "Metrics": [{"Name": "Heartbeat", "Unit": "Count"}]}
    assert (line["Component"], line["Heartbeat"], line["loop"], line["pid"]) == ("consumer", 1, "consumer:orders", 42)
    assert abs(line["_aws"]["Timestamp"] - clock.now().timestamp() * 1000) < 5000  # milliseconds, now


def test_the_outbox_line_has_no_dimensions_and_reports_zero_when_nothing_waits(app, capsys):
    metrics.outbox_backlog(app, 0, 0.0)
    metrics.outbox_backlog(app, 7, 123.4567)
    empty, waiting = _lines(capsys)
    for line in (empty, waiting):
        assert_emf(line)
        [directive] = line["_aws"]["CloudWatchMetrics"]
        assert directive["Dimensions"] == [[]]
        assert directive["Metrics"] == [{"Name": "OutboxOldestUnsentAgeSeconds", "Unit": "Seconds"},
                                        {"Name": "OutboxUnsent", "Unit": "Count"}]
    assert (empty["OutboxOldestUnsentAgeSeconds"], empty["OutboxUnsent"]) == (0, 0)
    assert (waiting["OutboxOldestUnsentAgeSeconds"], waiting["OutboxUnsent"]) == (123.457, 7)


def test_the_namespace_comes_from_the_setting(test_config, capsys):
    other = create_app({**test_config, "METRICS_NAMESPACE": "Torium/Staging"})
    metrics.heartbeat(other, "relay")
    [line] = _lines(capsys)
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Torium/Staging"


def test_the_contract_refuses_what_cloudwatch_would_not_extract(app):
    with pytest.raises(ValueError):
        metrics.heartbeat(app, "worker")  # not an alarmed component
    with pytest.raises(ValueError):
        metrics.document("Torium", {"X": (True, "Count")})  # a bool is not a number
    with pytest.raises(ValueError):
        metrics.document("Torium", {"X": (1, "ms")})  # not a CloudWatch unit
    with pytest.raises(ValueError):
        metrics.document("Torium", {"X": (1, "Count")}, {"Component": 1})  # dimension values are strings


def test_each_document_is_sent_to_the_agents_udp_listener_as_one_line_with_its_log_group(capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as agent:
        agent.bind(("127.0.0.1", 0))
        agent.settimeout(5)
        port = agent.getsockname()[1]
        emitter = Emitter("Torium", f"udp://127.0.0.1:{port}", "/aws/elasticbeanstalk/torium-prod/metrics")
        printed = emitter.emit({"Heartbeat": (1, "Count")}, {"Component": "relay"}, loop="relay")
        datagram, _ = agent.recvfrom(65536)
    text = datagram.decode()
    assert text.endswith("\n") and text.count("\n") == 1  # the agent needs one event per line
    received = json.loads(text)
    assert_emf(received)
    assert received["_aws"]["LogGroupName"] == "/aws/elasticbeanstalk/torium-prod/metrics"
    assert {k: v for k, v in received["_aws"].items() if k != "LogGroupName"} == printed["_aws"]
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [printed]  # stdout too, always


def test_the_agent_can_also_be_reached_over_tcp():
    received, ready = [], threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(5)
        port = server.getsockname()[1]

        def agent():
            connection, _ = server.accept()
            with connection:
                received.append(connection.makefile().readline())
            ready.set()

        listener = threading.Thread(target=agent)
        listener.start()
        Emitter("Torium", f"tcp://127.0.0.1:{port}", "group").emit({"Heartbeat": (1, "Count")},
                                                                   {"Component": "scheduler"})
        assert ready.wait(5)
        listener.join()
    assert json.loads(received[0])["Component"] == "scheduler"


@pytest.mark.parametrize("endpoint", ["tcp://127.0.0.1:9", "udp://127.0.0.1:9", "udp://127.0.0.1:99999",
                                      "http://127.0.0.1:25888", "udp://127.0.0.1", "nonsense"])
def test_an_unreachable_or_malformed_endpoint_never_blocks_or_raises(endpoint, capsys):
    started = time.monotonic()
    for _ in range(3):
        Emitter("Torium", endpoint, "group").emit({"Heartbeat": (1, "Count")}, {"Component": "relay"})
    assert time.monotonic() - started < 2
    assert len(_lines(capsys)) == 3  # stdout still has every line
