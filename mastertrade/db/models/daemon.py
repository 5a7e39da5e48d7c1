"""The daemon's records: scheduled job runs, alert rules the user added, and every alert raised.

Job runs are written when a run starts (outcome "running") and updated when it ends, so a crash leaves
a row that the next start marks "interrupted". Alerts keep their delivery result: "delivered",
"failed" (after the last retry), "retrying", "held" (quiet hours), "pending" or "no_targets"; repeats
suppressed inside the dedupe window are counted on the first alert instead of stored again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from mastertrade.db.types import UTCDateTime, utcnow


class JobRun(SQLModel, table=True):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    trigger: str = Field(max_length=16)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str = Field(max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    result: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class AlertRule(SQLModel, table=True):
    __tablename__ = "alert_rules"
    __table_args__ = {"sqlite_autoincrement": True}  # an id is never reused (revision 0003a)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    kind: str = Field(max_length=32)
    params: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(max_length=16)
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertRecord(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_created", "created_at"),
        Index("ix_alerts_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    rule: str = Field(max_length=128)
    severity: str = Field(max_length=16)
    dedupe_key: str = Field(max_length=255)
    title: str = Field(max_length=255)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)
    attempts: int = 0
    repeats: int = 0
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    targets: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
