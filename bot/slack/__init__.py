"""Everything Slack: the Bolt app and its listeners (parse → ack → service → render), Block Kit
builders (ui), OAuth installs, the Web API client factory, the DM messenger and the directory of
users and admins. Nothing below this package (services, store, flows) knows Slack exists."""
