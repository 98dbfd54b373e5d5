"""Message handlers of the events domain (registered in workers/__init__.py)."""

from torium_api.events.services import comments, reminders


def on_reminder_due(payload: dict, *, message_id: str) -> None:
    reminders.fan_out(payload["reminder_id"])


def on_comment_posted(payload: dict, *, message_id: str) -> None:
    comments.fan_out(payload["comment_id"])
