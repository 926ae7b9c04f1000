"""Every action_id, block_id and callback_id getkey puts on a Slack surface, in one place so
listeners, builders and tests agree.

One naming style: an action id is named after what pressing it does (`OPEN_FORM`), a view's
callback id ends in `_VIEW`, a block id ends in `_BLOCK` (or is built by a `*_block()` function).
The string VALUES are those of messages already sent: a button on an old message must keep
working, so a value is never renamed; new ids use `getkey.<what>`.
"""

from __future__ import annotations

from datetime import timedelta

# -- actions: the ephemeral answers to /getkey --------------------------------------------------
PICK_PLATFORM = "getkey.pick_platform"  # static select in the help message; value = flow id
SHOW_GUIDE = "getkey.show_guide"  # "did you mean" buttons: SHOW_GUIDE + "." + flow id
OPEN_FORM = "getkey.open_form"  # the guide's button; value = flow id
LIST_DELETE = "getkey.delete"  # per-row button in /getkey list; value = {"id", "label"}
LIST_DONE = "getkey.list_done"  # per-row "Done with it" in /getkey list; the same value

# -- actions: reminder DMs and the Home tab (value = the credential id, never a secret) ---------
REMINDER_ROTATE = "getkey_reminder_rotate"
REMINDER_SNOOZE_DAY = "getkey_reminder_snooze_1d"
REMINDER_SNOOZE_WEEK = "getkey_reminder_snooze_1w"
REMINDER_STOP = "getkey_reminder_stop"
REMINDER_DELETE = "getkey_reminder_delete"
REMINDER_ACTIONS = (
    REMINDER_ROTATE,
    REMINDER_SNOOZE_DAY,
    REMINDER_SNOOZE_WEEK,
    REMINDER_STOP,
    REMINDER_DELETE,
)
SNOOZES = {REMINDER_SNOOZE_DAY: timedelta(days=1), REMINDER_SNOOZE_WEEK: timedelta(weeks=1)}

# -- actions: asking someone else for a key (bot.slack.listeners.requests) ---
OPEN_REQUEST_FORM = "getkey.open_request_form"  # the provider's "Paste the key"; value = request id
REQUEST_CANCEL = "getkey.request_cancel"  # the requester's; value = request id
REQUEST_RESEND = "getkey.request_resend"  # the requester's "Send again"; value = request id
REQUEST_WITHDRAW = "getkey.request_withdraw"  # the provider's; value = request id
REQUEST_ASK_AGAIN = "getkey.request_ask_again"  # on a reminder; value = credential id
HOME_ASK = "getkey.home_ask"  # App Home "Ask someone for a key": opens ASK_VIEW
ASK_SHORTCUT = "getkey.ask_for_a_key"  # message shortcut (manifest.json): opens ASK_VIEW

# -- the action id inside every input block of the credential form ------------------------------
FIELD_VALUE = "value"

# -- views (callback ids) -----------------------------------------------------------------------
FORM_VIEW = "getkey.credential_form"
CONFIRM_DELETE_VIEW = "getkey.confirm_delete"
CONFIRM_DONE_VIEW = "getkey.confirm_done"  # "Done with this key?" (/getkey done, list's Done)
ASK_VIEW = "getkey.ask_view"  # who, which platform, a note

# -- blocks -------------------------------------------------------------------------------------
PROBLEM_BLOCK = "problem"  # the failure explanation at the top of a re-rendered form
ROTATION_BLOCK = "getkey.rotation"  # input: how often to be reminded to rotate
AUTO_RENEW_BLOCK = "getkey.auto_renew"  # input: the renewal opt-in checkbox
PICK_BLOCK = "pick"  # section holding the platform select
START_BLOCK = "start"  # the guide's "Paste the key" button
SUGGESTIONS_BLOCK = "suggestions"  # "did you mean" buttons
ASK_USER_BLOCK = "getkey.ask_user"  # input: whom to ask (users_select)
ASK_PLATFORM_BLOCK = "getkey.ask_platform"  # input: which platform (static_select)
ASK_NOTE_BLOCK = "getkey.ask_note"  # input: a short note (optional)
REQUEST_BLOCK = "getkey.request"  # the buttons under a request message

# -- option values ------------------------------------------------------------------------------
ROTATION_DEFAULT = "default"  # "the platform's (or workspace's) period"
AUTO_RENEW_ON = "on"


def field_block(key: str) -> str:
    """The input block of one form field."""
    return "field." + key


def guide_action(flow_id: str) -> str:
    """A "did you mean" button: unique per flow, as one block may hold several."""
    return f"{SHOW_GUIDE}.{flow_id}"


def list_row_block(credential_id: str) -> str:
    return f"row.{credential_id}"


def list_done_block(credential_id: str) -> str:
    return f"done.{credential_id}"


def home_row_block(credential_id: str) -> str:
    return f"cred:{credential_id}"


def home_actions_block(credential_id: str) -> str:
    return f"actions:{credential_id}"

# -- workspace admins (bot.slack.listeners.admin); values are credential ids, never a secret ---
ADMIN_OPEN = "getkey.admin.open"  # Home: show every credential of the workspace
ADMIN_BACK = "getkey.admin.back"  # Home: back to the person's own keys
ADMIN_REASSIGN = "getkey.admin.reassign"  # users_select; the credential id is in its block id
ADMIN_DELETE = "getkey.admin.delete"
ADMIN_SETTINGS = "getkey.admin.settings"  # opens the workspace defaults modal
ADMIN_SETTINGS_VIEW = "getkey.admin.settings_view"
TAKE_OVER = "getkey.take_over"  # in the admins' copy of a departed owner's reminder
ADMIN_GROUP_BLOCK = "getkey.admin.group"
ADMIN_ROTATION_BLOCK = "getkey.admin.rotation"
ADMIN_PLATFORMS_BLOCK = "getkey.admin.platforms"
ADMIN_TOGGLE_BLOCK = "getkey.admin.toggle"
ADMIN_PURPOSE_BLOCK = "getkey.admin.purpose"  # the workspace's default purpose (read / write)
ADMIN_CONTACT_KIND_BLOCK = "getkey.admin.contact_kind"  # radio: nobody, person, channel, address
ADMIN_CONTACT_USER_BLOCK = "getkey.admin.contact_user"
ADMIN_CONTACT_CHANNEL_BLOCK = "getkey.admin.contact_channel"
ADMIN_CONTACT_TEXT_BLOCK = "getkey.admin.contact_text"  # an https:// address or an email
SLACK_ADMINS = "slack-admins"  # option value: Slack's owners and admins are the admins


def admin_row_block(credential_id: str) -> str:
    return f"admin:{credential_id}"

# -- requests by link (bot.slack.listeners.links) -------------------------------------------------
LINK_CANCEL = "getkey.link_cancel"  # the requester's (or an admin's); value = request id
ASK_LINK_BLOCK = "getkey.ask_link"  # input in ASK_VIEW: "Send a link instead" (checkbox)
LINK_CHOICE = "link"  # that checkbox's value
HOME_ASK_LINK = "getkey.home_ask_link"  # App Home "Send a link instead": ASK_VIEW, box ticked

# -- paging and search (issue 21); a button's value = {"q": the searched words, "o": offset} ---
LIST_PAGE = "getkey.list_page"  # /getkey list's Previous/Next: replaces the message
HOME_PAGE = "getkey.home_page"  # Home tab's Previous/Next (and Clear search: o = 0, q = "")
HOME_SEARCH = "getkey.home_search"  # Home tab's search input (dispatches on Enter)
ADMIN_PAGE = "getkey.admin.page"  # admin view's Previous/Next
ADMIN_SEARCH = "getkey.admin.search"  # admin view's search input
HOME_SEARCH_BLOCK = "getkey.home_search_block"
ADMIN_SEARCH_BLOCK = "getkey.admin.search_block"

# -- the end of a key's job (issue 19; value = the credential id) ------------------------------
END_DONE = "getkey.end_done"  # "Done": getkey forgets the key, revocation steps are shown
END_EXTEND = "getkey.end_extend"  # datepicker on "still needed?": the new end date
END_BLOCK = "getkey.end"
PURPOSE_BLOCK = "getkey.purpose"  # form input: what the key is for (read / write)
NEEDED_UNTIL_BLOCK = "getkey.needed_until"  # form input: optional end date (datepicker)
PURPOSE_FIXED_BLOCK = "getkey.purpose_fixed"  # a request's purpose and end date, shown
