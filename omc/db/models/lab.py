"""Tables of the `lab` schema: Lab sessions.

Graph checkpoints are kept by LangGraph's own saver tables; a session row holds what
the API shows: who asked what, where the session is, and how it ended.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omc.db.base import LAB_SCHEMA, Base
from omc.db.types import UtcDateTime

__all__ = ["LabSession"]


class LabSession(Base):
    """One goal a user asked the Lab about, and its progress and result."""

    __tablename__ = "sessions"
    __table_args__ = {"schema": LAB_SCHEMA}

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    goal: Mapped[str] = mapped_column(Text)
    # queued, running, waiting, done, needs_data, failed, cancelled
    status: Mapped[str] = mapped_column(String(16), index=True)
    question: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    verdict: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
