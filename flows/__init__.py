"""Platform flows: what a person needs to get a working credential, and how to prove it works.
Nothing in this package knows about Slack."""
