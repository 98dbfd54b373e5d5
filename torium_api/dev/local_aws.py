"""The local AWS endpoint (a moto server) for `make run` and the tests: never used in production."""

import json
import urllib.request

from flask import current_app

from torium_api import aws, queues


def start_moto_server(port: int = 0):
    """A moto server on loopback (never 0.0.0.0). Returns (server, endpoint URL)."""
    from moto.server import ThreadedMotoServer  # a development dependency

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    return server, f"http://{host}:{bound_port}"


def provision() -> dict:
    """Create what the app expects to exist: queues + DLQs, a verified SES sender, a push application."""
    queues.create_all()
    aws.client("ses").verify_email_identity(EmailAddress=current_app.config["SES_SENDER"])
    application = aws.client("sns").create_platform_application(
        Name="torium-local", Platform="GCM", Attributes={"PlatformCredential": "local-fcm-key"})
    return {"SNS_PLATFORM_APPLICATION_ARN": application["PlatformApplicationArn"]}


def sent_notifications(endpoint: str) -> list[dict]:
    """Every SMS, e-mail and push the local endpoint received, oldest first per channel."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=5) as response:  # noqa: S310 (our http URL)
        state = json.load(response)
    sent = [{"channel": "SMS", "recipient": m["phone_number"], "text": m["message"]}
            for m in state.get("sns", {}).get("SMS", [])]
    sent += [{"channel": "EMAIL", "recipient": ",".join(m["destinations"].get("ToAddresses", [])),
              "text": f"{m['subject']}: {m['body']}"} for m in state.get("ses", {}).get("Message", [])]
    for endpoint_state in state.get("sns", {}).get("PlatformEndpoint", []):
        for body in endpoint_state.get("messages", {}).values():
            sent.append({"channel": "PUSH", "recipient": endpoint_state["arn"], "text": _push_text(body)})
    return sent


def _push_text(body: str) -> str:
    try:
        fcm = json.loads(json.loads(body)["GCM"])
        return f"{fcm['notification']['title']}: {fcm['notification']['body']}"
    except (ValueError, KeyError, TypeError):
        return body
