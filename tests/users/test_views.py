"""Contract routes 22–28: the caller's profile, preferences, phone, organization, device, e-mail look-up."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import run_background
from torium_api.dev.local_aws import sent_notifications
from torium_api.extensions import db
from torium_api.notifications.models import NotificationDelivery
from torium_api.outbox.models import OutboxMessage
from torium_api.users.models import MobileVerification, User

OK = {"code": 200, "message": "Success"}
PROFILE_FIELDS = {"user_id", "username", "email", "mobile_number", "reminder_preferences", "cognito_user_id",
                  "device_token", "organization_id", "organization_name", "timezone"}


def _profile(client, headers) -> dict:
    response = client.get("/users", headers=headers)
    assert response.status_code == 200
    return response.get_json()["data"]


def _row(app, user_id) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def _dead_letters(app, sqs) -> list[str]:
    from torium_api import queues

    with app.app_context():
        url = queues.dlq_url(queues.NOTIFICATIONS)
    return [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]


def _messages(app, type_):
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.type == type_)))


def test_get_users_returns_the_callers_profile_with_contract_types(client, user):
    user_id, headers = user
    response = client.get("/users", headers=headers)
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == OK
    data = body["data"]
    assert set(data) == PROFILE_FIELDS
    assert data["user_id"] == user_id and isinstance(data["user_id"], int)
    assert data["email"] == "ada@example.com"
    assert isinstance(data["cognito_user_id"], str)
    assert data["reminder_preferences"] is None and data["organization_id"] is None
    assert data["organization_name"] is None and data["mobile_number"] is None
    assert "device_arn" not in data  # an internal SNS identifier stays internal


def test_each_token_sees_only_its_own_profile(client, tokens):
    _, ada = tokens.user("ada@example.com")
    bob_id, bob = tokens.user("bob@example.com")
    client.patch("/users/preferences", headers=bob, json={"reminder_preferences": "PUSH"})
    assert _profile(client, ada)["reminder_preferences"] is None
    assert _profile(client, bob)["reminder_preferences"] == "PUSH"
    # naming Bob in the legacy header does not reach Bob's profile
    assert client.get("/users", headers={**ada, "trm-user-id": str(bob_id)}).status_code == 403
    response = client.patch("/users/preferences", headers={**ada, "trm-user-id": str(bob_id)},
                            json={"reminder_preferences": "EMAIL"})
    assert response.status_code == 403
    assert _profile(client, bob)["reminder_preferences"] == "PUSH"


@pytest.mark.parametrize("value", ["EMAIL", "PUSH"])
def test_patch_preferences_sets_email_or_push(client, user, value):
    response = client.patch("/users/preferences", headers=user[1], json={"reminder_preferences": value})
    assert response.status_code == 200
    assert response.get_json() == {"status": OK, "data": None}
    assert _profile(client, user[1])["reminder_preferences"] == value


@pytest.mark.parametrize("body", [
    {"reminder_preferences": "FAX"}, {"reminder_preferences": "email"}, {"reminder_preferences": 1},
    {"reminder_preferences": None}, {}, {"reminder_preferences": "PUSH", "user_id": 7},
])
def test_bad_preferences_are_422_and_change_nothing(client, user, body):
    client.patch("/users/preferences", headers=user[1], json={"reminder_preferences": "EMAIL"})
    response = client.patch("/users/preferences", headers=user[1], json=body)
    assert response.status_code == 422
    assert response.get_json()["status"] == {"code": 422, "message": "Validation failed"}
    assert response.get_json()["errors"]
    assert _profile(client, user[1])["reminder_preferences"] == "EMAIL"


def test_sms_preference_needs_a_verified_number(client, user):
    response = client.patch("/users/preferences", headers=user[1], json={"reminder_preferences": "SMS"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"reminder_preferences": ["SMS needs a verified mobile number."]}


def test_malformed_json_is_400_in_the_envelope(client, user):
    response = client.patch("/users/preferences", data="{nope", content_type="application/json",
                            headers=user[1])
    assert response.status_code == 400
    assert response.get_json()["status"]["code"] == 400


# --- phone verification -------------------------------------------------------------------

@pytest.fixture
def texted(client, app, sqs, aws_endpoint):
    """Request a code for a number and read it from the SMS the local AWS endpoint received (as a phone would):
    the code exists nowhere else."""

    def request_code(headers, number="+48123456789") -> str:
        response = client.post("/users/mobile", headers=headers, json={"mobile_number": number})
        assert response.status_code == 200, response.get_json()
        run_background(app)
        [*_, last] = [m["text"] for m in sent_notifications(aws_endpoint) if m["recipient"] == number]
        return last.rsplit(" ", 1)[-1]

    return request_code


def test_post_mobile_sends_a_code_that_exists_only_as_a_hash_and_in_the_sms(client, app, user, texted, sqs):
    from torium_api.outbox.models import OutboxMessage

    code = texted(user[1])
    assert len(code) == 6 and code.isdigit()
    [message] = _messages(app, "users.mobile_verification_requested")
    assert message.queue == "notifications"
    with app.app_context():
        stored = db.session.scalar(select(MobileVerification))
        assert message.payload == {"verification_id": stored.id}  # no number, no code: nothing to leak
        assert stored.code_hash and code not in (stored.code_hash, stored.code_salt)
        assert not any(code in json.dumps(m.payload) for m in db.session.scalars(select(OutboxMessage)))
        assert db.session.scalar(select(NotificationDelivery.body)) == "[redacted: contains a secret code]"
    assert [json.loads(b)["payload"] for b in _dead_letters(app, sqs)] == []  # and nothing waits in a DLQ


def test_confirming_the_code_sets_the_number_and_sms_preference(client, app, user, texted):
    code = texted(user[1])
    response = client.patch("/users/mobile", headers=user[1], json={"code": code})
    assert response.status_code == 200 and response.get_json() == {"status": OK, "data": None}
    profile = _profile(client, user[1])
    assert profile["mobile_number"] == "+48123456789" and profile["reminder_preferences"] == "SMS"


def test_a_code_is_single_use(client, app, user, texted):
    code = texted(user[1])
    assert client.patch("/users/mobile", headers=user[1], json={"code": code}).status_code == 200
    assert client.patch("/users/mobile", headers=user[1], json={"code": code}).status_code == 422


def test_a_new_code_invalidates_the_previous_one(client, app, user, texted):
    first = texted(user[1], "+48111111111")
    second = texted(user[1], "+48222222222")
    if first != second:
        assert client.patch("/users/mobile", headers=user[1], json={"code": first}).status_code == 422
    assert client.patch("/users/mobile", headers=user[1], json={"code": second}).status_code == 200
    assert _profile(client, user[1])["mobile_number"] == "+48222222222"


def test_an_expired_code_is_refused(client, app, user, texted):
    code = texted(user[1])
    with app.app_context():
        db.session.execute(db.update(MobileVerification).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
    assert client.patch("/users/mobile", headers=user[1], json={"code": code}).status_code == 422
    assert _profile(client, user[1])["mobile_number"] is None


def test_wrong_codes_are_counted_and_lock_the_code(client, app, user, texted):
    code = texted(user[1])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(app.config["MOBILE_CODE_MAX_ATTEMPTS"]):
        response = client.patch("/users/mobile", headers=user[1], json={"code": wrong})
        assert response.status_code == 422
        assert response.get_json()["status"]["message"] == "Wrong or expired confirmation code"
    # the right code no longer works: brute force gets MOBILE_CODE_MAX_ATTEMPTS tries per code
    assert client.patch("/users/mobile", headers=user[1], json={"code": code}).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(MobileVerification.attempts)) == app.config["MOBILE_CODE_MAX_ATTEMPTS"]


def test_another_users_code_does_not_verify_me(client, app, tokens, texted):
    _, ada = tokens.user("ada@example.com")
    _, eve = tokens.user("eve@example.com")
    code = texted(ada)
    assert client.patch("/users/mobile", headers=eve, json={"code": code}).status_code == 422


def test_sending_codes_is_rate_limited_per_user(client, app, user):
    for i in range(app.config["MOBILE_CODES_PER_HOUR"]):
        assert client.post("/users/mobile", headers=user[1], json={"mobile_number": f"+4850000000{i}"}).status_code \
            == 200
    response = client.post("/users/mobile", headers=user[1], json={"mobile_number": "+48500000009"})
    assert response.status_code == 429 and 3590 <= int(response.headers["Retry-After"]) <= 3600
    assert len(_messages(app, "users.mobile_verification_requested")) == app.config["MOBILE_CODES_PER_HOUR"]


def test_codes_to_one_number_are_limited_across_accounts(client, app, tokens):
    """Anyone may sign up: without a per-number limit, many accounts could text one victim without end."""
    limit = app.config["MOBILE_CODES_PER_NUMBER_PER_DAY"]
    accounts = [tokens.user(f"sender{i}@example.com")[1] for i in range(limit + 1)]
    statuses = [client.post("/users/mobile", headers=headers, json={"mobile_number": "+48600600600"}).status_code
                for headers in accounts]
    assert statuses == [200] * limit + [429]
    assert len(_messages(app, "users.mobile_verification_requested")) == limit


@pytest.mark.parametrize("number", ["123456789", "+0123456789", "+48 123 456 789", "", 48123456789,
                                    "+4812345678901234567", None])
def test_bad_phone_numbers_are_422_and_send_nothing(client, app, user, number):
    response = client.post("/users/mobile", headers=user[1], json={"mobile_number": number})
    assert response.status_code == 422
    assert _messages(app, "users.mobile_verification_requested") == []


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", 123456, None])
def test_malformed_codes_are_422(client, user, code):
    assert client.patch("/users/mobile", headers=user[1], json={"code": code}).status_code == 422


def test_codes_never_reach_the_logs(client, app, user, caplog, texted):
    caplog.set_level("DEBUG")
    code = texted(user[1])
    client.patch("/users/mobile", headers=user[1], json={"code": code})
    assert code not in caplog.text


# --- organization, device, e-mail look-up --------------------------------------------------

def test_patch_organization_accepts_the_apps_string_id(client, user):
    response = client.patch("/users/organization", headers=user[1], json={"organization_id": "2"})
    assert response.status_code == 200
    profile = _profile(client, user[1])
    assert profile["organization_id"] == 2 and profile["organization_name"] == "Pekao"
    assert client.patch("/users/organization", headers=user[1], json={"organization_id": 3}).status_code == 200
    assert _profile(client, user[1])["organization_name"] == "ING"
    assert client.patch("/users/organization", headers=user[1], json={"organization_id": None}).status_code == 200
    assert _profile(client, user[1])["organization_id"] is None


@pytest.mark.parametrize("value", ["999", 0, -1, "1.5", 1.5, "one", True, "", 2**40])
def test_bad_organization_is_422_and_changes_nothing(client, user, value):
    client.patch("/users/organization", headers=user[1], json={"organization_id": 1})
    response = client.patch("/users/organization", headers=user[1], json={"organization_id": value})
    assert response.status_code == 422
    assert _profile(client, user[1])["organization_id"] == 1


def test_patch_device_stores_the_token_and_asks_for_an_endpoint(client, app, user):
    response = client.patch("/users/device", headers=user[1], json={"device_token": "fcm-token-1"})
    assert response.status_code == 200
    assert _profile(client, user[1])["device_token"] == "fcm-token-1"
    [message] = _messages(app, "users.device_registered")
    assert message.payload == {"user_id": user[0], "device_token": "fcm-token-1"}
    client.patch("/users/device", headers=user[1], json={"device_token": "fcm-token-1"})
    assert len(_messages(app, "users.device_registered")) == 1  # unchanged token: nothing to do


def test_patch_device_with_null_clears_the_device(client, app, user):
    client.patch("/users/device", headers=user[1], json={"device_token": "fcm-token-1"})
    assert client.patch("/users/device", headers=user[1], json={"device_token": None}).status_code == 200
    assert _profile(client, user[1])["device_token"] is None


@pytest.mark.parametrize("body", [{"device_token": ""}, {"device_token": 5}, {"device_token": "x" * 1025}, {}])
def test_bad_device_tokens_are_422(client, user, body):
    assert client.patch("/users/device", headers=user[1], json=body).status_code == 422


def test_get_users_email_finds_an_id_case_insensitively(client, tokens):
    _, ada = tokens.user("ada@example.com")
    bob_id, _ = tokens.user("Bob@Example.com")
    response = client.get("/users/email", headers={**ada, "trm-email": "bob@example.COM"})
    assert response.status_code == 200
    assert response.get_json() == {"status": OK, "data": {"user_id": bob_id}}


def test_get_users_email_unknown_is_404(client, user):
    response = client.get("/users/email", headers={**user[1], "trm-email": "nobody@example.com"})
    assert response.status_code == 404
    assert response.get_json() == {"status": {"code": 404, "message": "Wrong email!"}, "data": None}


@pytest.mark.parametrize("headers", [{}, {"trm-email": "not-an-email"}, {"trm-email": "a@" + "b" * 260 + ".com"}])
def test_get_users_email_needs_a_valid_address(client, user, headers):
    assert client.get("/users/email", headers={**user[1], **headers}).status_code == 422


def test_get_users_email_is_rate_limited_per_user(client, app, tokens):
    _, ada = tokens.user("ada@example.com")
    _, bob = tokens.user("bob@example.com")
    limit = int(app.config["RATELIMIT_EMAIL_LOOKUP"].split("/")[0])
    statuses = [client.get("/users/email", headers={**ada, "trm-email": f"u{i}@example.com"}).status_code
                for i in range(limit + 1)]
    assert statuses == [404] * limit + [429]
    limited = client.get("/users/email", headers={**ada, "trm-email": "bob@example.com"})
    assert limited.get_json()["status"]["code"] == 429 and limited.headers["Retry-After"]
    assert client.get("/users/email", headers={**bob, "trm-email": "ada@example.com"}).status_code == 200


def test_no_profile_route_writes_for_another_user(client, app, tokens):
    ada_id, ada = tokens.user("ada@example.com")
    bob_id, bob = tokens.user("bob@example.com")
    client.patch("/users/organization", headers=ada, json={"organization_id": 1})
    client.patch("/users/device", headers=ada, json={"device_token": "ada-device"})
    bob_row = _row(app, bob_id)
    assert bob_row.organization_id is None and bob_row.device_token is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_timezone_is_set_with_the_preferences_and_validated(client, user):
    assert client.patch("/users/preferences", headers=user[1], json={"timezone": "America/New_York"}).status_code == 200
    assert _profile(client, user[1])["timezone"] == "America/New_York"
    assert client.patch("/users/preferences", headers=user[1], json={"timezone": "Mars/Base"}).status_code == 422
    assert client.patch("/users/preferences", headers=user[1], json={}).status_code == 422
    assert _profile(client, user[1])["timezone"] == "America/New_York"
