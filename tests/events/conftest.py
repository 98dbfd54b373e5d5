from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from tests.factories import Cast, make_group
from torium_api.events.models import Event, EventComment, EventMember, EventReminder
from torium_api.extensions import db
from torium_api.outbox.models import OutboxMessage

EVENT = {"is_budget": True, "budget": "150", "description": "Bring skis", "event_timestamp": "2030-02-01 18:30:00.00",
         "reminder": "periodical", "schedule_period": "1 week", "name": "Ski trip"}


@dataclass
class EventWorld(Cast):
    group_id: int
    event_id: int
    comment_id: int
    ids: dict
    headers: dict


@pytest.fixture
def eworld(app, client, tokens) -> EventWorld:
    """admin, moderator, standard: group and event members; bystander: group member only; stranger: neither."""
    ids, headers = {}, {}
    for who in ("admin", "moderator", "standard", "bystander", "stranger"):
        ids[who], headers[who] = tokens.signed_in_user(client, f"{who}@example.com")
    group_id = make_group(app, ids["admin"], members={ids["moderator"]: "moderator", ids["standard"]: "standard",
                                                      ids["bystander"]: "standard"})
    body = {**EVENT, "users": [ids["moderator"], ids["standard"]]}
    response = client.post("/event", headers={**headers["admin"], "trm-group-id": str(group_id)}, json=body)
    event_id = response.get_json()["data"]["id"]
    comment = client.post("/event/comment", headers=headers["standard"], json={"event_id": str(event_id),
                                                                                "comment": "first!"})
    headers["anonymous"] = {}
    return EventWorld(group_id, event_id, comment.get_json()["data"]["events_comments_id"][0], ids, headers)


def event_snapshot(app) -> tuple:
    with app.app_context():
        def rows(*columns):
            return db.session.execute(select(*columns).order_by(*columns)).all()

        return (rows(Event.id, Event.name, Event.starts_at, Event.budget, Event.next_reminder_at),
                rows(EventMember.event_id, EventMember.user_id), rows(EventComment.id, EventComment.comment),
                rows(EventReminder.event_id, EventReminder.trigger_at),
                db.session.scalar(select(func.count()).select_from(OutboxMessage)))
