from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from torium_api.extensions import db


class Heartbeat(db.Model):
    """One background loop of one process: when it last made progress, and its last error.

    ``component`` is the loop (``relay``, ``scheduler``, ``consumer:<queue>``); ``host`` and ``pid`` name the
    process. Times are the database's ``now()``. ``last_beat_at`` is NULL until the loop first made progress.
    """

    __tablename__ = "heartbeats"

    component: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_beat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
