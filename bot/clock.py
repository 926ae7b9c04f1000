"""The one definition of "now" (timezone-aware UTC) and of what counts as an acceptable time."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC. A naive time is refused: it is ambiguous, and refusing it
    catches bugs before they shift schedules."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where a timezone-aware UTC time is needed")
    return moment.astimezone(UTC)


def aware(when: datetime) -> datetime:
    """For values read back from a database that drops the zone (SQLite): naive means UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)
