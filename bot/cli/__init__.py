"""The `getkey` console script (`main`) and what it drives from a terminal: serving, the
platform guide and verify journey, operator commands (keys, db, reveal, remind) and the
hand-off commands (api-tokens, webhooks)."""

from bot.cli.main import main

__all__ = ["main"]
