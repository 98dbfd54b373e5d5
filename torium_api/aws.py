"""boto3 clients, built from config and cached per app (boto3 clients are thread-safe)."""

import threading

import boto3
from botocore.config import Config as BotoConfig
from flask import current_app

_lock = threading.Lock()


def client(service: str):
    app = current_app._get_current_object()
    cache = app.extensions.setdefault("torium_aws", {})
    if service not in cache:
        with _lock:
            if service not in cache:
                cache[service] = build_client(service, app.config)
    return cache[service]


def build_client(service: str, config: dict):
    """A client for ``service`` from settings, outside an app context (e.g. for the database's secret)."""
    kwargs = {
        "region_name": config["AWS_REGION"],
        "config": BotoConfig(connect_timeout=3, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}),
    }
    if config["AWS_ENDPOINT_URL"]:
        kwargs["endpoint_url"] = config["AWS_ENDPOINT_URL"]
    if config["AWS_LOCAL"]:
        # moto accepts any credentials; never let a local run pick up real ones.
        kwargs.update(aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing")  # noqa: S106
    return boto3.session.Session().client(service, **kwargs)
