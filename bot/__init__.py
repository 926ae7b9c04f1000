"""The Slack side of getkey and the process around it (settings, store, scheduler, CLI)."""
