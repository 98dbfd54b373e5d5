"""CloudWatch metrics as embedded metric format (EMF) documents: one JSON line each.

Every document is written to stdout as one line, so local runs and the process logs show it. On Elastic
Beanstalk stdout reaches ``/var/log/<process>.stdout.log`` through rsyslog with a syslog prefix, which CloudWatch
does not extract metrics from; so when ``METRICS_EMF_ENDPOINT`` is set (``udp://127.0.0.1:25888`` there, the
CloudWatch agent's EMF listener, ``.ebextensions/06_process_logs.config``) each document is also sent to the
agent, with the ``_aws.LogGroupName`` the agent requires. Sending is best effort: it never blocks for long and
never raises.

The contract with ``infra/monitoring.yaml`` (namespace ``METRICS_NAMESPACE``, default ``Torium``):
``Heartbeat`` (Count, dimension ``Component`` = relay | scheduler | consumer) and ``OutboxOldestUnsentAgeSeconds``
(Seconds, no dimensions, 0 when nothing waits), with ``OutboxUnsent`` (Count, no dimensions) next to it.
"""

import json
import logging
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

from torium_api import clock

log = logging.getLogger(__name__)
UNITS = frozenset({
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits",
    "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
    "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
    "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
})
HEARTBEAT_COMPONENTS = frozenset({"relay", "scheduler", "consumer"})
SEND_TIMEOUT_SECONDS = 0.2
_stdout_lock = threading.Lock()


def document(namespace: str, metrics: dict[str, tuple[float, str]], dimensions: dict[str, str] | None = None,
             properties: dict | None = None) -> dict:
    """An EMF document: ``metrics`` maps a name to (value, unit); dimensions and metric values are top-level members."""
    dimensions = dimensions or {}
    if not all(isinstance(v, str) for v in dimensions.values()):
        raise ValueError("dimension values must be strings")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and u in UNITS for v, u in metrics.values()):
        raise ValueError("metric values must be numbers, units CloudWatch units")
    directive = {"Namespace": namespace, "Dimensions": [list(dimensions)],
                 "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()]}
    timestamp = int(clock.now().timestamp() * 1000)
    return {"_aws": {"Timestamp": timestamp, "CloudWatchMetrics": [directive]}, **(properties or {}), **dimensions,
            **{name: value for name, (value, _) in metrics.items()}}


class Emitter:
    """Writes EMF documents to stdout and, when an endpoint is configured, to the CloudWatch agent."""

    def __init__(self, namespace: str, endpoint: str | None = None, log_group: str | None = None):
        self.namespace, self.log_group = namespace, log_group
        self.target = _parse_endpoint(endpoint) if endpoint else None
        self._last_warning = float("-inf")

    def emit(self, metrics: dict[str, tuple[float, str]], dimensions: dict[str, str] | None = None,
             **properties) -> dict:
        doc = document(self.namespace, metrics, dimensions, properties)
        line = json.dumps(doc, separators=(",", ":"), default=str)
        with _stdout_lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        if self.target:
            self._send({**doc, "_aws": {**doc["_aws"], "LogGroupName": self.log_group}})
        return doc

    def _send(self, doc: dict) -> None:
        scheme, host, port = self.target
        payload = (json.dumps(doc, separators=(",", ":"), default=str) + "\n").encode()
        try:
            if scheme == "udp":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.setblocking(False)
                    sock.sendto(payload, (host, port))
            else:
                with socket.create_connection((host, port), timeout=SEND_TIMEOUT_SECONDS) as sock:
                    sock.sendall(payload)
        except OSError as exc:  # best effort: the agent may be restarting; the stdout line is still there
            if time.monotonic() - self._last_warning >= 60:
                self._last_warning = time.monotonic()
                log.warning("could not send metrics to %s://%s:%s: %s", scheme, host, port, exc)


def _parse_endpoint(endpoint: str) -> tuple[str, str, int] | None:
    parts = urlsplit(endpoint)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("udp", "tcp") or not parts.hostname or not port:
        log.warning("METRICS_EMF_ENDPOINT %r is not udp://host:port or tcp://host:port; metrics go to stdout only",
                    endpoint)
        return None
    return parts.scheme, parts.hostname, port


def emitter(app) -> Emitter:
    cached = app.extensions.get("torium_metrics")
    if cached is None:
        config = app.config
        cached = app.extensions["torium_metrics"] = Emitter(
            config["METRICS_NAMESPACE"], config["METRICS_EMF_ENDPOINT"], config["METRICS_LOG_GROUP"])
    return cached


def heartbeat(app, component: str, **properties) -> dict:
    """``Heartbeat`` = 1 for a live loop; ``component`` is the alarm's dimension (relay, scheduler, consumer)."""
    if component not in HEARTBEAT_COMPONENTS:
        raise ValueError(f"unknown heartbeat component {component!r}")
    return emitter(app).emit({"Heartbeat": (1, "Count")}, {"Component": component}, **properties)


def outbox_backlog(app, unsent: int, oldest_age_seconds: float, **properties) -> dict:
    """The outbox gauge: how many rows wait to be published and how old the oldest is (0 and 0 when none)."""
    return emitter(app).emit({"OutboxOldestUnsentAgeSeconds": (round(oldest_age_seconds, 3), "Seconds"),
                              "OutboxUnsent": (unsent, "Count")}, **properties)
