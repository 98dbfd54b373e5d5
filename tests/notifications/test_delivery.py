"""Delivery by SMS (SNS), e-mail (SES) and push (SNS), observed at moto's server, and logged."""

import uuid

import pytest
from sqlalchemy import select

from torium_api import aws
from torium_api.dev.local_aws import sent_notifications
from torium_api.extensions import db
from torium_api.notifications import Channel
from torium_api.notifications.handlers import on_device_registered, on_notification_requested
from torium_api.notifications.models import DeliveryStatus, NotificationDelivery
from torium_api.outbox.relay import relay_batch
from torium_api.users.models import User
from torium_api.workers import runner


def _notify(app, user_id, channel, text, subject="Torium"):
    with app.app_context():
        on_notification_requested({"user_id": user_id, "channel": channel, "subject": subject, "text": text,
                                   "data": {}}, message_id=str(uuid.uuid4()))
        db.session.commit()


def _deliveries(app) -> list[NotificationDelivery]:
    with app.app_context():
        rows = db.session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)).all()
        db.session.expunge_all()
        return rows


def _give_user(app, user_id, **values):
    with app.app_context():
        db.session.execute(db.update(User).where(User.id == user_id).values(**values))
        db.session.commit()


def _register_device(app, user_id, token):
    _give_user(app, user_id, device_token=token)
    with app.app_context():
        on_device_registered({"user_id": user_id, "device_token": token}, message_id=str(uuid.uuid4()))
        db.session.commit()
        return db.session.get(User, user_id).device_arn


def _sent(aws_endpoint, channel, recipient):
    return [s["text"] for s in sent_notifications(aws_endpoint) if s["channel"] == channel
            and s["recipient"] == recipient]


def test_sms_email_and_push_arrive_with_their_content(app, user, aws_endpoint):
    phone = f"+4860{uuid.uuid4().int % 10**7:07d}"
    _give_user(app, user[0], mobile_number=phone)
    arn = _register_device(app, user[0], f"fcm-{uuid.uuid4()}")
    _notify(app, user[0], "SMS", "sms text")
    _notify(app, user[0], "EMAIL", "email text", subject="Reminder")
    _notify(app, user[0], "PUSH", "push text", subject="Invitation")
    assert _sent(aws_endpoint, "SMS", phone) == ["sms text"]
    assert "Reminder: email text" in _sent(aws_endpoint, "EMAIL", "ada@example.com")
    assert _sent(aws_endpoint, "PUSH", arn) == ["Invitation: push text"]
    rows = _deliveries(app)
    assert [(r.channel, r.recipient, r.status) for r in rows] == [
        ("SMS", phone, DeliveryStatus.SENT), ("EMAIL", "ada@example.com", DeliveryStatus.SENT),
        ("PUSH", arn, DeliveryStatus.SENT)]
    assert all(r.provider_id and r.user_id == user[0] for r in rows)


def test_push_payload_always_carries_forward_link(app, user, aws_endpoint):
    import json
    import urllib.request

    arn = _register_device(app, user[0], f"fcm-{uuid.uuid4()}")
    _notify(app, user[0], "PUSH", "hello")
    state = json.load(urllib.request.urlopen(f"{aws_endpoint}/moto-api/data.json"))
    [endpoint] = [e for e in state["sns"]["PlatformEndpoint"] if e["arn"] == arn]
    [body] = endpoint["messages"].values()
    assert json.loads(json.loads(body)["GCM"])["data"]["forward_link"] == "None"


def test_a_user_without_phone_or_device_is_skipped_and_logged(app, user, tokens, client):
    other_id, _ = tokens.user("zoe@example.com")
    _notify(app, user[0], "SMS", "no phone")
    _notify(app, user[0], "PUSH", "no device")
    _notify(app, other_id, "EMAIL", "zoe still gets hers")
    rows = _deliveries(app)
    assert [(r.user_id, r.channel, r.status, r.detail) for r in rows] == [
        (user[0], "SMS", DeliveryStatus.SKIPPED, "no sms address for this user"),
        (user[0], "PUSH", DeliveryStatus.SKIPPED, "no push address for this user"),
        (other_id, "EMAIL", DeliveryStatus.SENT, None)]


@pytest.mark.parametrize("preference, expected", [(None, "EMAIL"), ("SMS", "EMAIL"), ("EMAIL", "EMAIL")])
def test_preferred_channel_falls_back_to_email(app, user, preference, expected):
    _give_user(app, user[0], reminder_preferences=preference)
    _notify(app, user[0], Channel.PREFERRED.value, "hi")
    assert _deliveries(app)[0].channel == expected


def test_preferred_sms_goes_by_sms_when_verified(app, user, aws_endpoint):
    phone = f"+4861{uuid.uuid4().int % 10**7:07d}"
    _give_user(app, user[0], reminder_preferences="SMS", mobile_number=phone)
    _notify(app, user[0], "PREFERRED", "by sms")
    assert _sent(aws_endpoint, "SMS", phone) == ["by sms"]


def test_a_disabled_push_endpoint_is_logged_as_failed_not_retried(app, user):
    arn = _register_device(app, user[0], f"fcm-{uuid.uuid4()}")
    with app.app_context():
        aws.client("sns").set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    _notify(app, user[0], "PUSH", "to a dead phone")
    [row] = _deliveries(app)
    assert (row.status, row.detail) == (DeliveryStatus.FAILED, "EndpointDisabled")


def test_patch_device_creates_the_push_endpoint_in_the_background(app, client, user, sqs, aws_endpoint):
    token = f"fcm-{uuid.uuid4()}"
    client.patch("/users/device", headers=user[1], json={"device_token": token})
    with app.app_context():
        relay_batch()
    runner.drain_once(app, wait_seconds=0)
    with app.app_context():
        arn = db.session.get(User, user[0]).device_arn
        attributes = aws.client("sns").get_endpoint_attributes(EndpointArn=arn)["Attributes"]
    assert attributes["Token"] == token and attributes["Enabled"] == "true"
    # a new token re-points the same endpoint
    client.patch("/users/device", headers=user[1], json={"device_token": token + "-2"})
    with app.app_context():
        relay_batch()
    runner.drain_once(app, wait_seconds=0)
    with app.app_context():
        assert db.session.get(User, user[0]).device_arn == arn
        assert aws.client("sns").get_endpoint_attributes(EndpointArn=arn)["Attributes"]["Token"] == token + "-2"


def test_mobile_verification_sms_end_to_end(app, client, user, sqs, aws_endpoint):
    phone = f"+4862{uuid.uuid4().int % 10**7:07d}"
    assert client.post("/users/mobile", headers=user[1], json={"mobile_number": phone}).status_code == 200
    with app.app_context():
        assert relay_batch() == 1
    runner.drain_once(app, wait_seconds=0)
    [text] = _sent(aws_endpoint, "SMS", phone)
    code = text.rsplit(" ", 1)[-1]
    assert client.patch("/users/mobile", headers=user[1], json={"code": code}).status_code == 200
    assert client.get("/users", headers=user[1]).get_json()["data"]["mobile_number"] == phone
    [row] = _deliveries(app)
    assert row.status is DeliveryStatus.SENT and code not in row.body  # the log never holds the code


def test_the_delivery_log_shows_only_mine(app, client, user, tokens):
    other_id, other = tokens.user("zed@example.com")
    _notify(app, user[0], "EMAIL", "for ada")
    _notify(app, user[0], "SMS", "no phone")
    _notify(app, other_id, "EMAIL", "for zed")
    mine = client.get("/notifications?limit=1", headers=user[1]).get_json()["data"]
    assert [d["body"] for d in mine["items"]] == ["no phone"] and mine["items"][0]["status"] == "skipped"
    rest = client.get(f"/notifications?cursor={mine['next_cursor']}", headers=user[1]).get_json()["data"]
    assert [d["body"] for d in rest["items"]] == ["for ada"] and rest["next_cursor"] is None
    assert [d["body"] for d in client.get("/notifications", headers=other).get_json()["data"]["items"]] == ["for zed"]
