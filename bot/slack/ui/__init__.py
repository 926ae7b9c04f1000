"""Block Kit for every Slack surface getkey shows, split by surface.

`ids` names every action/block/callback id, `text` the limits and the small text helpers,
`messages` the ephemeral answers and DMs, `modals` every modal, `home` the App Home tab.
Everything is built from slack_sdk.models, so the limits slack_sdk knows are checked on
`to_dict()`. Nothing here receives a secret: callers pass masked values and identifiers only.
"""
