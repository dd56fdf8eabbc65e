"""Wire schemas of answers that are not read models of their own."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec

from trajectory.protocol.attention import AttentionItem


class RecordedOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A write's answer: the trajectory, its new version, the new positions in its history."""

    id: UUID
    version: int
    positions: list[int] = []
    contact_id: str | None = None


class CaseloadItemOut(msgspec.Struct, kw_only=True):
    id: UUID
    version: int
    status: str
    phase: int
    days_in_phase: int
    coordinator: str
    intake_date: date
    open_runaway_since: date | None
    overdue: int
    next_due_on: date | None
    attention: list[AttentionItem]


class CaseloadOut(msgspec.Struct, kw_only=True):
    items: list[CaseloadItemOut]
    total: int
    limit: int
    offset: int


class HandoverListItemOut(msgspec.Struct, kw_only=True):
    id: UUID
    status: str


class AccessEntryOut(msgspec.Struct, kw_only=True):
    entry_id: int
    at: str
    user_id: str | None
    on_behalf_of: str | None
    role: str | None
    organisation: str | None
    client: str | None
    action: str
    trajectory_id: str | None
    outcome: str
    request_id: str | None


class HealthOut(msgspec.Struct, kw_only=True):
    status: str
    store: str
    version: str
