"""Every table getkey owns, children before parents (the order tests empty them in)."""

from bot.store.models import CORE_TABLES
from bot.store.sharing_models import HANDOFF_TABLES

TABLES = (*CORE_TABLES, *HANDOFF_TABLES)
