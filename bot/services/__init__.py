"""The use cases, free of Slack and HTTP: credentials, requests, admins. Each returns a typed
outcome that a Slack listener, a page or the CLI renders in its own medium."""
