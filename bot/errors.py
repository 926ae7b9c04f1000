"""Errors every command shares (kept apart from bot.cli so nothing imports the CLI back)."""


class UsageError(Exception):
    """A problem the operator can fix (bad setting, unknown platform...): one line, no trace."""
