"""The Slack side of getkey and the process around it (settings, store, scheduler, CLI)."""

# The one place the version lives (pyproject reads it; `getkey --version` prints it).
__version__ = "0.2.0"
