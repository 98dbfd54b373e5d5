from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.factories import Cast, make_comment, make_event, make_group


@dataclass
class EventWorld(Cast):
    group_id: int
    event_id: int
    comment_id: int
    ids: dict
    headers: dict


@pytest.fixture
def eworld(app, tokens) -> EventWorld:
    """admin, moderator, standard: group and event members; bystander: group member only; stranger: neither."""
    ids, headers = {}, {}
    for who in ("admin", "moderator", "standard", "bystander", "stranger"):
        ids[who], headers[who] = tokens.user(f"{who}@example.com")
    group_id = make_group(app, ids["admin"], members={ids["moderator"]: "moderator", ids["standard"]: "standard",
                                                      ids["bystander"]: "standard"})
    event_id = make_event(app, group_id, ids["admin"], [ids["moderator"], ids["standard"]],
                          starts_at=datetime(2030, 2, 1, 18, 30, tzinfo=ZoneInfo("Europe/Warsaw")))  # as EVENT
    comment_id = make_comment(app, event_id, ids["standard"])
    headers["anonymous"] = {}
    return EventWorld(group_id, event_id, comment_id, ids, headers)
