"""The one clock: aware UTC datetimes everywhere (SQLite hands naive ones back)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(when: datetime) -> datetime:
    """A naive datetime is taken as UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)
