"""The Flutter app's calls, replayed the way docs/flutter-client.md says the updated app makes them.

``RequestSender`` below behaves like the updated ``lib/api/request_sender.dart`` of the guide: a fresh bearer
token on every call (on a 401: refresh the session once and retry, then sign out), ``content-type:
application/json`` on every call with a body, and the envelope decoded whatever the HTTP status (a synthetic
envelope when there is no JSON envelope to decode), so ``result["status"]["code"]`` always exists. Each
``App`` method is one class of the app's ``lib/api/**`` with the app's exact headers and JSON types (ids as
strings where the app sends strings, ``budget`` as text, ``event_timestamp`` as Dart's ``kk`` format or
``DateTime.toString()``), and every response is read the way the app's screens read it.

Where the app's own id comes from: the app reads the Cognito attribute ``custom:user_id``. Its first call goes
without ``trm-user-id``; the API's workers then write ``custom:user_id`` (moto's Cognito here) and the replay reads
it back as ``fetchUserAttributes()`` would (see ``App.sign_in``).
"""

import json
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import run_background
from torium_api.dev.local_aws import sent_notifications

ZONE = ZoneInfo("Europe/Warsaw")  # DEFAULT_TIMEZONE: the zone naive times of users without a `timezone` are read in
CONTRACT = {  # the 28 (method, path) pairs the app calls, in the contract's order
    ("POST", "/event"), ("GET", "/event"), ("PUT", "/event"), ("DELETE", "/event"), ("POST", "/event/notify"),
    ("POST", "/event/comment"), ("GET", "/event/comment"), ("PUT", "/event/comment"), ("DELETE", "/event/comment"),
    ("POST", "/groups"), ("GET", "/groups"), ("PUT", "/groups"), ("DELETE", "/groups"), ("GET", "/groups/invitation"),
    ("GET", "/groups/invitation/count"), ("GET", "/group/members"), ("POST", "/group/members"),
    ("DELETE", "/group/members"), ("PATCH", "/group/members/status"), ("PATCH", "/group/members/role"),
    ("GET", "/organizations"), ("GET", "/users"), ("PATCH", "/users/preferences"), ("POST", "/users/mobile"),
    ("PATCH", "/users/mobile"), ("PATCH", "/users/organization"), ("PATCH", "/users/device"), ("GET", "/users/email"),
}
SCHEDULE_PERIODS = {"1 day, 0:00:00": "1 day", "7 days, 0:00:00": "1 week", "30 days, 0:00:00": "1 month"}  # app's maps
DART_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")  # what DateTime.parse reads (as the API sends it)


# --- the updated request_sender.dart ---------------------------------------------------------------

class Session:
    """Amplify's session as the app sees it: ``fetchAuthSession`` gives the current access token, refreshing it
    when it expired; ``refresh`` is what the guide does once after a 401."""

    def __init__(self, tokens, email: str, *, first_token: str | None = None, refreshable: bool = True):
        self.tokens, self.email, self.refreshable = tokens, email, refreshable
        self._token = first_token or tokens.token(email)
        self.refreshes, self.signed_out = 0, False

    def access_token(self) -> str:
        return self._token

    def refresh(self) -> None:
        self.refreshes += 1
        if self.refreshable:
            self._token = self.tokens.token(self.email)

    def sign_out(self) -> None:
        self.signed_out = True


def envelope(status_code: int | None, body: bytes | None) -> dict:
    """The guide's ``_decode``: the JSON envelope whatever the status; otherwise a synthetic one.

    The bytes are read as UTF-8, like the guide's ``utf8.decode(response.bodyBytes)``: the API sends
    ``application/json`` without a charset and raw UTF-8, which http 0.13's ``response.body`` reads as Latin-1."""
    if status_code is None:  # no answer at all (offline, DNS, TLS, timeout)
        return {"status": {"code": 0, "message": "No connection: check your network and try again"}, "data": None}
    try:
        decoded = json.loads(body or b"")
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("status"), dict) \
            and isinstance(decoded["status"].get("code"), int):
        return decoded
    code = 0 if 200 <= status_code < 300 else status_code  # a 200 page that is not our API is no success
    return {"status": {"code": code, "message": "Unexpected answer from the server; try again"}, "data": None}


class RequestSender:
    """get/post/put/patch/delete as in the guide's request_sender.dart (on Flask's test client)."""

    def __init__(self, client, session: Session):
        self.client, self.session = client, session
        self.calls: list[tuple[str, str, int]] = []  # (method, path, HTTP status) of every answer
        self.etags: dict[tuple, tuple[str, dict]] = {}  # optional conditional GETs: (path, headers) -> (ETag, body)

    def _send(self, method: str, path: str, headers: dict, body) -> dict:
        for attempt in (1, 2):
            sent = {**headers, "Authorization": f"Bearer {self.session.access_token()}"}
            if body is not None:
                sent["content-type"] = "application/json"  # addApplicationType, even for {}
            cache_key = (path, tuple(sorted(headers.items())))
            if method == "GET" and cache_key in self.etags:
                sent["If-None-Match"] = self.etags[cache_key][0]
            response = self.client.open(path, method=method, headers=sent,
                                        data=None if body is None else json.dumps(body))
            self.calls.append((method, path, response.status_code))
            if response.status_code == 401 and attempt == 1:
                self.session.refresh()  # fetchAuthSession again (forceRefresh where the Amplify version has it)
                continue
            if response.status_code == 401:
                self.session.sign_out()
            if response.status_code == 304:  # only ever after our own If-None-Match
                return self.etags[cache_key][1]
            result = envelope(response.status_code, response.get_data())
            if method == "GET" and response.status_code == 200 and response.headers.get("ETag"):
                self.etags[cache_key] = (response.headers["ETag"], result)
            if response.status_code in (429, 503):
                assert int(response.headers["Retry-After"]) > 0, (path, result)
            assert result["status"]["code"] in (response.status_code, 0), (path, response.status_code, result)
            return result
        raise AssertionError("unreachable")

    def get(self, path, headers=None):
        return self._send("GET", path, dict(headers or {}), None)

    def post(self, path, headers, body):
        return self._send("POST", path, headers, body)

    def put(self, path, headers, body):
        return self._send("PUT", path, headers, body)

    def patch(self, path, headers, body):
        return self._send("PATCH", path, headers, body)

    def delete(self, path, headers, body):
        return self._send("DELETE", path, headers, body)


# --- the app's lib/api/** classes, one method each (headers and body types exactly as the app sends them) ---

class App:
    def __init__(self, client, session: Session, *, cognito=None, flask_app=None):
        self.api, self.session = RequestSender(client, session), session
        self.cognito, self.flask_app = cognito, flask_app  # the user pool Amplify reads; the API (its workers)
        self.user_id: str | None = None  # SharedPreferences 'user_id': a String, as AmplifyConfigure stores it

    def me(self) -> dict:
        """trm-user-id only once the id is known: a missing header is fine, a wrong one is a 403."""
        return {"trm-user-id": self.user_id} if self.user_id else {}

    def sign_in(self) -> dict:
        """Home.didChangeDependencies: custom:user_id is not there yet on the first launch; the first call (sent
        without trm-user-id) makes the API write it, and once the workers did, fetchUserAttributes() returns it."""
        assert "custom:user_id" not in self.cognito.attributes(self.session.email)
        profile = self.get_user_preferences()
        assert profile["status"] == {"code": 200, "message": "Success"}, profile
        run_background(self.flask_app)  # the API's workers: AdminUpdateUserAttributes(custom:user_id)
        self.user_id = self.cognito.attributes(self.session.email)["custom:user_id"]  # fetchUserAttributes()
        assert self.user_id == str(profile["data"]["user_id"])
        return profile

    # users/
    def get_user_preferences(self):
        return self.api.get("/users", self.me())

    def patch_preferences(self, value):
        return self.api.patch("/users/preferences", self.me(), {"reminder_preferences": value})

    def post_mobile_phone_update(self, number):
        return self.api.post("/users/mobile", self.me(), {"mobile_number": number})

    def patch_update_mobile_phone(self, code):
        return self.api.patch("/users/mobile", self.me(), {"code": code})

    def patch_device(self, token):
        return self.api.patch("/users/device", self.me(), {"device_token": token})

    def get_user_id_by_email(self, email):
        return self.api.get("/users/email", {"trm-email": email})

    # organizations/
    def get_organizations(self):
        return self.api.get("/organizations")

    def patch_organization(self, organization_id):
        return self.api.patch("/users/organization", self.me(), {"organization_id": str(organization_id)})

    # groups/
    def post_user_group(self, name, description):
        return self.api.post("/groups", {"trm-admin-id": self.user_id}, {"name": name, "description": description})

    def get_user_groups(self):
        return self.api.get("/groups", self.me())

    def put_user_group(self, group_id: int, name, description):
        return self.api.put("/groups", {"trm-admin-id": str(self.user_id)},
                            {"name": name, "description": description, "admin_id": self.user_id, "id": group_id})

    def delete_user_group(self, group_id: int):
        return self.api.delete("/groups", {"trm-admin-id": self.user_id}, {"id": group_id})

    def get_invitations(self):
        return self.api.get("/groups/invitation", self.me())

    def get_invitations_count(self):
        return self.api.get("/groups/invitation/count", self.me())

    # groups_members/
    def get_group_members(self, group_id):
        return self.api.get("/group/members", {**self.me(), "trm-group-id": str(group_id)})

    def post_group_members(self, invitee_id: int, group_id: int):
        return self.api.post("/group/members", {"trm-user-id": str(invitee_id), "trm-group-id": str(group_id)}, {})

    def delete_group_member(self, member_id: int, group_id: int):
        return self.api.delete("/group/members", {"trm-user-id": str(member_id), "trm-group-id": str(group_id)}, {})

    def patch_status_group_members(self, group_id: int, status):
        return self.api.patch("/group/members/status", {**self.me(), "trm-group-id": str(group_id)},
                              {"status": status})

    def patch_user_group_role(self, member_id: int, group_id: int, status):
        return self.api.patch("/group/members/role", {"trm-admin-id": str(self.user_id), "trm-group-id": str(group_id)},
                              {"status": status, "user_id": member_id})

    # events/
    def post_event(self, group_id: int, is_budget, budget: str, description, event_timestamp: str, reminder,
                   schedule_period, users: list[int], name):
        return self.api.post("/event", {"trm-group-id": str(group_id)}, {
            "is_budget": is_budget, "budget": budget, "description": description, "event_timestamp": event_timestamp,
            "reminder": reminder, "schedule_period": schedule_period, "users": users, "name": name})

    def get_all_events(self):
        return self.api.get("/event", self.me())

    def get_user_events(self, group_id: int):
        return self.api.get("/event", {**self.me(), "trm-group-id": str(group_id)})

    def put_event(self, event: dict, event_timestamp: str, users: list[int]):
        """edit_event_screen: the event as GetAllEvents parsed it, the period mapped back, [own id] + its users."""
        return self.api.put("/event", {"trm-user-id": str(self.user_id)}, {
            "id": event["id"], "is_budget": event["is_budget"], "budget": event["budget"] if event["is_budget"] else -1,
            "description": event["description"], "event_timestamp": event_timestamp,
            "reminder": event["reminder"].lower(), "schedule_period": SCHEDULE_PERIODS.get(event["schedule_period"]),
            "users": users, "name": event["name"], "group_id": event["group_id"]})

    def delete_event(self, event_id: int):
        return self.api.delete("/event", self.me(), {"id": event_id})

    def post_notify_all(self, event_id: int):
        return self.api.post("/event/notify", {"trm-user-id": str(self.user_id)}, {"event_id": event_id})

    # event_comments/
    def post_event_comment(self, event_id: int, comment: str):
        return self.api.post("/event/comment", self.me(), {"event_id": str(event_id), "comment": comment})

    def get_event_comments(self, event_id: int):
        return self.api.get("/event/comment", {"trm-event-id": str(event_id)})

    def put_event_comment(self, comment_id: str, comment: str):
        return self.api.put("/event/comment", {"trm-user-id": str(self.user_id)},
                            {"comment": comment, "id": comment_id})

    def delete_event_comment(self, comment_id: int):
        return self.api.delete("/event/comment", self.me(), {"id": comment_id})


# --- how the screens read the answers --------------------------------------------------------------

def ok(result: dict):
    """`result["status"]["code"] == 200`, then `result["data"]`."""
    assert result["status"] == {"code": 200, "message": "Success"}, result
    return result["data"]


def refused(result: dict, code: int, message: str | None = None) -> dict:
    """An error the screen now reads from the decoded body instead of crashing on `{}`."""
    assert result["status"]["code"] == code and isinstance(result["status"]["message"], str), result
    assert result["data"] is None, result
    if message is not None:
        assert result["status"]["message"] == message, result
    return result


def dart_kk(moment: datetime) -> str:
    """add_members_to_event: DateFormat('yyyy-MM-dd kk:mm:ss').format(t) + '.00' (kk: midnight is hour 24)."""
    hour = moment.hour or 24
    return f"{moment:%Y-%m-%d} {hour:02d}:{moment:%M:%S}.00"


def dart_to_string(moment: datetime) -> str:
    """edit_event_screen: DateTime.toString() -> '2023-02-01 18:30:00.000'."""
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d}"


def event_details(event: dict) -> dict:
    """event_base_screen -> EventDetails(...): every field with the type the constructor declares."""
    assert isinstance(event["id"], int) and isinstance(event["name"], str) and isinstance(event["description"], str)
    assert DART_DATETIME.fullmatch(event["event_timestamp"]), event
    assert isinstance(event["is_budget"], bool)
    if event["is_budget"]:
        assert isinstance(event["budget"], int | float)
    assert isinstance(event["group_id"], int) and isinstance(event["group_name"], str)
    assert event["reminder"] in ("periodical", "once")  # capitalize() -> Periodical / Once
    assert event["schedule_period"] in SCHEDULE_PERIODS  # schedulePeriodMap[...]! must not be null
    assert event["status"] in ("admin", "moderator", "standard")
    for user in event["users"]:  # parseMembers: `for (Map user in users)`, Member(user["id"], user["email"], "")
        assert isinstance(user, dict) and isinstance(user["id"], int) and isinstance(user["email"], str)
    return event


# --- the replay ------------------------------------------------------------------------------------

@pytest.fixture
def people(app, client, tokens, cognito_pool, sqs):
    """Ada (organiser) and Bob (her friend) on their own phones, signed up in Cognito; neither has called the API
    before."""
    phones = []
    for email in ("ada@example.com", "bob@example.com"):
        cognito_pool.user(email)
        phones.append(App(client, Session(tokens, email), cognito=cognito_pool, flask_app=app))
    return tuple(phones)


def test_the_app_replayed_across_the_28_routes(app, client, tokens, sqs, aws_endpoint, people):
    started = time.perf_counter()
    ada, bob = people

    # -- sign in: Home loads the profile (first call: no trm-user-id), the badge, the first-login screens
    profile = ok(ada.sign_in())
    assert isinstance(profile["user_id"], int) and profile["email"] == "ada@example.com"
    assert profile["reminder_preferences"] is None and profile["organization_id"] is None  # -> the two screens
    assert profile["device_token"] is None and "device_arn" not in profile
    ok(bob.sign_in())
    assert ok(ada.get_invitations_count()) == {"count": 0}

    # -- PreferencesScreen, OrganizationScreen, Home.checkDeviceToken
    assert ok(ada.patch_preferences("PUSH")) is None
    organizations = ok(ada.get_organizations())
    for organization in organizations:  # Organization(o["id"], o["logo_link"], o["name"], o["url"])
        assert isinstance(organization["id"], int) and isinstance(organization["name"], str)
        assert isinstance(organization["url"], str) and isinstance(organization["logo_link"], str)
    assert ok(ada.patch_organization(organizations[0]["id"])) is None
    local_token = "fcm-ada-phone-1"
    if ok(ada.get_user_preferences())["device_token"] != local_token:
        ok(ada.patch_device(local_token))
    profile = ok(ada.get_user_preferences())
    assert (profile["reminder_preferences"], profile["organization_id"], profile["device_token"]) == (
        "PUSH", organizations[0]["id"], local_token)
    assert isinstance(profile["organization_name"], str)  # settings_screen reads it as a non-null String

    # -- AddUsersToGroupScreen: find the friend by e-mail, create the group, invite
    refused(ada.get_user_id_by_email("nobody@example.com"), 404, "Wrong email!")  # "User doesn't exist!"
    found = ok(ada.get_user_id_by_email("bob@example.com"))
    assert isinstance(found["user_id"], int) and str(found["user_id"]) != ada.user_id  # the self-invite check
    bob_id = found["user_id"]
    group_id = ok(ada.post_user_group("Narty – Zakopane ⛷", "Zimowe wyjazdy"))["group_id"]
    assert isinstance(group_id, int)
    assert ok(ada.post_group_members(bob_id, group_id)) is None
    refused(ada.post_group_members(bob_id, group_id), 409, "This user has already been invited")

    # -- Bob: the badge, NotificationScreen, accept
    assert ok(bob.get_invitations_count()) == {"count": 1}
    [invitation] = ok(bob.get_invitations())  # UserNotification(n["email"], n["group_id"], n["name"])
    assert invitation == {"email": "ada@example.com", "group_id": group_id, "name": "Narty – Zakopane ⛷"}
    assert ok(bob.patch_status_group_members(invitation["group_id"], "confirmed")) is None
    assert ok(bob.get_invitations_count()) == {"count": 0}
    refused(ada.post_group_members(bob_id, group_id), 409, "This user is already a member of the group")

    # -- GroupsScreen and EditGroupMembers: roles
    [group] = ok(ada.get_user_groups())  # Group(g["admin_id"], g["group_id"], g["name"], g["description"], g["status"])
    assert group == {"group_id": group_id, "name": "Narty – Zakopane ⛷", "description": "Zimowe wyjazdy",
                     "admin_id": int(ada.user_id), "status": "admin"}
    assert [g["status"] for g in ok(bob.get_user_groups())] == ["standard"]
    [member] = ok(ada.get_group_members(group_id))  # Member(m["user_id"], m["email"], m["status"]); caller excluded
    assert member == {"user_id": bob_id, "username": None, "email": "bob@example.com", "status": "standard"}
    assert ok(ada.patch_user_group_role(bob_id, group_id, "moderator")) is None
    assert ok(ada.get_group_members(group_id))[0]["status"] == "moderator"
    assert ok(ada.patch_user_group_role(bob_id, group_id, "standard")) is None  # demoting works now
    refused(bob.patch_user_group_role(bob_id, group_id, "moderator"), 403)  # the menu is gone for him anyway
    assert ok(ada.put_user_group(group_id, "Narty 2030", "Zimowe wyjazdy")) is None
    assert ok(ada.get_user_groups())[0]["name"] == "Narty 2030"

    # -- AddEventScreen -> ChooseGroupScreen -> AddMembersToEvent -> PostEvent
    eligible = [g for g in ok(ada.get_user_groups()) if g["status"] != "standard"]
    assert [g["group_id"] for g in eligible] == [group_id]
    chosen = [m["user_id"] for m in ok(ada.get_group_members(group_id))]
    today = datetime.now(ZONE).replace(tzinfo=None)
    upcoming_at = (today + timedelta(days=30)).replace(hour=18, minute=30, second=0, microsecond=0)
    past_at = (today - timedelta(days=2)).replace(hour=0, minute=15, second=0, microsecond=0)  # sent as "24:15"
    trip = ok(ada.post_event(group_id, True, "150", "Bring skis", dart_kk(upcoming_at), "periodical", "1 week",
                             [int(ada.user_id), *chosen], "Ski trip"))
    assert set(trip) == {"id"} and isinstance(trip["id"], int)  # new: the id (the app ignores the answer)
    assert dart_kk(past_at).endswith(" 24:15:00.00")
    ok(ada.post_event(group_id, False, "", "Who brings what", dart_kk(past_at), "once", "1 day",
                      [int(ada.user_id)], "Planning night"))
    bad = refused(ada.post_event(group_id, True, "", "x", dart_kk(upcoming_at), "once", "1 day", [], "No budget"), 422)
    assert bad["errors"] == {"budget": ["A budgeted event needs a budget."]}  # shown next to the field

    # -- EventBaseScreen / CalendarScreen: upcoming first, then past; GroupDetailsScreen: the group's events
    events = [event_details(e) for e in ok(ada.get_all_events())]
    assert [e["name"] for e in events] == ["Ski trip", "Planning night"]
    ski = events[0]
    assert ski["event_timestamp"] == f"{upcoming_at:%Y-%m-%d %H:%M:%S}"  # the wall time Ada picked
    assert events[1]["event_timestamp"] == f"{past_at:%Y-%m-%d} 00:15:00"  # kk's 24:15 is 00:15 of that date
    assert (ski["budget"], ski["schedule_period"], ski["status"]) == (150.0, "7 days, 0:00:00", "admin")
    assert not events[1]["is_budget"] and events[1]["budget"] is None  # the app substitutes -1
    assert {u["id"] for u in ski["users"]} == {int(ada.user_id), bob_id}
    in_group = ok(ada.get_user_events(group_id))  # Event(e["name"], e["description"], e["event_timestamp"])
    assert [(e["name"], e["description"], e["event_timestamp"]) for e in in_group] == [
        (e["name"], e["description"], e["event_timestamp"]) for e in events]
    [bobs] = [event_details(e) for e in ok(bob.get_all_events()) if e["id"] == ski["id"]]
    assert bobs["status"] == "standard"

    # -- EditEventScreen: DateTime.toString(), the period mapped back, [own id] + event.users (Ada twice)
    moved = upcoming_at + timedelta(minutes=30)
    users = [int(ada.user_id), *(u["id"] for u in ski["users"])]
    assert ok(ada.put_event(ski, dart_to_string(moved), users)) is None
    ski = next(event_details(e) for e in ok(ada.get_all_events()) if e["id"] == ski["id"])
    assert ski["event_timestamp"] == f"{moved:%Y-%m-%d %H:%M:%S}"
    refused(bob.put_event(ski, dart_to_string(moved), users), 403)  # a standard member (no edit icon for him)

    # -- EventDetailsScreen: comments
    posted = ok(bob.post_event_comment(ski["id"], "Zabiorę smar — Łódź"))
    bob_comment = posted["events_comments_id"][0]  # the app reads element 0 of a list
    assert isinstance(bob_comment, int)
    ok(ada.post_event_comment(ski["id"], "Great"))
    comments = ok(ada.get_event_comments(ski["id"]))  # Comment(c["comment"], c["id"]+"", c["user_id"]+"", age)
    assert [c["comment"] for c in comments] == ["Great", "Zabiorę smar — Łódź"]  # newest first
    for comment in comments:
        assert isinstance(comment["id"], int) and isinstance(comment["user_id"], int)
        assert isinstance(comment["event_timestamp"], str) and comment["event_timestamp"].endswith(" ago")
        assert comment["event_id"] == ski["id"] and comment["email"] in ("ada@example.com", "bob@example.com")
    comment_id = str(comments[1]["id"])  # the screen keeps comment ids as Strings
    assert ok(bob.put_event_comment(comment_id, "Zabiorę smar i cyklinę")) is None
    refused(ada.put_event_comment(comment_id, "not yours"), 403)  # the author only (no edit icon for her)
    assert ok(bob.get_event_comments(ski["id"]))[1]["comment"] == "Zabiorę smar i cyklinę"
    refused(bob.post_event_comment(ski["id"], ""), 422)  # the input's validator never runs: check the answer
    assert ok(bob.delete_event_comment(int(comment_id))) is None
    assert [c["comment"] for c in ok(bob.get_event_comments(ski["id"]))] == ["Great"]

    # -- "Notify all users": once per 24 hours, the 429 read from the body
    assert ok(ada.post_notify_all(ski["id"])) is None
    again = refused(ada.post_notify_all(ski["id"]), 429, "You can send 1 notification per 24 hours")
    assert again["status"]["message"] == "You can send 1 notification per 24 hours"  # the original's snackbar text
    refused(bob.post_notify_all(ski["id"]), 403)

    # -- MobileNumberInit -> MobileNumberSubmitCode: the code is texted by the workers
    number = "+48123456789"
    assert ok(ada.post_mobile_phone_update(number)) is None
    run_background(app)
    [*_, sms] = [m["text"] for m in sent_notifications(aws_endpoint) if m["recipient"] == number]
    code = sms.rsplit(" ", 1)[-1]
    assert re.fullmatch(r"[0-9]{6}", code)
    wrong = ada.patch_update_mobile_phone(f"{(int(code) + 1) % 10**6:06d}")
    assert str(wrong["status"]["code"]) != "200"  # -> "Wrong confirmation code!"
    refused(wrong, 422, "Wrong or expired confirmation code")
    assert str(ada.patch_update_mobile_phone(code)["status"]["code"]) == "200"
    profile = ok(ada.get_user_preferences())
    assert (profile["mobile_number"], profile["reminder_preferences"]) == (number, "SMS")

    # -- SettingsScreen: preferences, bank, and a new FCM token
    assert ok(ada.patch_preferences("EMAIL")) is None
    assert ok(ada.patch_organization(organizations[-1]["id"])) is None
    assert ok(ada.patch_device("fcm-ada-phone-2")) is None
    profile = ok(ada.get_user_preferences())
    assert (profile["reminder_preferences"], profile["organization_name"], profile["device_token"]) == (
        "EMAIL", organizations[-1]["name"], "fcm-ada-phone-2")

    # -- a stale trm-user-id (e.g. the previous account's id left in SharedPreferences): 403, decoded
    ada.user_id, own = str(bob_id), ada.user_id
    refused(ada.get_user_preferences(), 403, "trm-user-id does not match the authenticated user")
    refused(ada.get_user_groups(), 403)
    ada.user_id = own

    # -- EditGroupMembers "Delete user", then delete the event (with comments and reminders) and the group
    assert ok(ada.delete_group_member(bob_id, group_id)) is None
    assert ok(bob.get_user_groups()) == [] and ok(bob.get_all_events()) == []
    refused(bob.get_event_comments(ski["id"]), 404)  # no longer an event member
    assert ok(ada.delete_event(ski["id"])) is None
    assert [e["name"] for e in ok(ada.get_all_events())] == ["Planning night"]
    assert ok(ada.delete_user_group(group_id)) is None
    assert ok(ada.get_user_groups()) == [] and ok(ada.get_all_events()) == []

    called = {(method, path) for method, path, _ in ada.api.calls + bob.api.calls}
    assert called == CONTRACT, sorted(CONTRACT - called)
    assert all(status != 401 for *_, status in ada.api.calls + bob.api.calls)
    print(f"\nreplayed {len(ada.api.calls) + len(bob.api.calls)} calls over {len(called)} routes "
          f"in {time.perf_counter() - started:.2f} s")


def test_an_expired_session_is_refreshed_once_then_a_dead_one_signs_out(app, client, tokens, cognito_pool, sqs):
    stale = tokens.token("ada@example.com", exp=int(time.time()) - 600, iat=int(time.time()) - 4200)
    cognito_pool.user("ada@example.com")
    phone = App(client, Session(tokens, "ada@example.com", first_token=stale), cognito=cognito_pool, flask_app=app)
    assert ok(phone.sign_in())["email"] == "ada@example.com"
    assert (phone.api.session.refreshes, phone.api.session.signed_out) == (1, False)
    assert [status for *_, status in phone.api.calls] == [401, 200]

    dead = App(client, Session(tokens, "eve@example.com", first_token="not.a.token", refreshable=False))
    refused(dead.get_user_preferences(), 401, "Authentication required")
    assert (dead.api.session.refreshes, dead.api.session.signed_out) == (1, True)


def test_the_old_sender_without_a_token_gets_a_401_envelope(client):
    response = client.get("/users", headers={"trm-user-id": "1"})  # what today's app sends
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert envelope(response.status_code, response.get_data()) == {
        "status": {"code": 401, "message": "Authentication required"}, "data": None}


def test_answers_without_an_envelope_become_a_synthetic_one(client):
    docs = client.get("/docs")  # a public HTML page: 200, but no envelope
    assert docs.status_code == 200 and not docs.is_json
    assert envelope(docs.status_code, docs.get_data())["status"]["code"] == 0
    assert envelope(502, b"<html>Bad Gateway</html>") == {
        "status": {"code": 502, "message": "Unexpected answer from the server; try again"}, "data": None}
    assert envelope(None, None)["status"]["code"] == 0  # offline: no HTTP status at all
    assert envelope(200, b"[]")["status"]["code"] == 0
