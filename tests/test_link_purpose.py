"""A link carries what the key is for and until when (issue 19), in a real browser (headless
chromium) against the real bot, the local Slack and a local BigCommerce:
`/getkey request link bigcommerce for:write until:<date> …` → the page says the job → a
read-only account is refused naming the scopes to set to Modify → the Modify account is
stored for the requester with that end date (no rotation reminder). A link whose end date
passed before anyone answered stores nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from bot.slack.ui import ids
from bot.store.admin import Defaults
from bot.store.sharing_models import CredentialRequest
from tests.bot_fixtures import (
    RunningBot,
    bot_server_fixture,
    checked_bot_fixture,
    pending_stages,
    set_defaults,
)
from tests.browser import PHONE, browser  # noqa: F401 - a fixture
from tests.platforms import bigcommerce as bc
from tests.slack_standin import visible_text as visible

LINK = re.compile(r"http://127\.0\.0\.1:\d+/k/[A-Za-z0-9_-]{43}")

bot_server = bot_server_fixture(links=True, platform=bc.BigCommerceServer)
bot = checked_bot_fixture(reset_defaults=True)


def day(days: int) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def make_link(bot: RunningBot, requester: str, text: str) -> tuple[str, str]:
    """(the link, what the requester was told)."""
    bot.standin.reset()
    said = bot.standin.reply_to(bot.person(requester).command("request link " + text))
    shown = visible(said.args["blocks"])
    found = LINK.search(shown)
    assert found, shown
    return found.group(0), shown


def submit(page: Any, token: str) -> None:
    page.fill("#f-store_hash", bc.HASH)
    page.fill("#f-access_token", token)
    page.click("button[type=submit]")


def test_a_link_for_read_and_write_until_a_date_in_a_browser(bot, browser):  # noqa: F811
    until = day(200)
    words = f"{until:%A} {until.day} {until:%B %Y}"
    url, shown = make_link(
        bot, "U0LINKJOB", f"bigcommerce for:write until:{until.date().isoformat()} the import")
    assert "for read and write (import, sync in, integration)" in shown and words in shown
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0LINKJOB")
    assert request.purpose == "write" and request.note == "the import"

    page = browser.new_page(viewport=PHONE)
    page.goto(url)
    job = page.inner_text("#job")
    assert "read and write (import, sync in, integration)" in job and words in job
    # Fixed by the link: nothing on the page lets the visitor choose another purpose.
    assert page.query_selector("[name=purpose]") is None
    assert page.query_selector("[name=needed_until]") is None

    submit(page, bc.READ_ONLY_TOKEN)
    page.wait_for_selector(".problem")
    problem = page.inner_text(".problem")
    assert "Content: Modify" in problem and "Products: Modify" in problem
    assert bot.runtime.store.list_for_user(bot.slack.team_id, "U0LINKJOB") == []
    assert bot.runtime.store.get_request(request.id).state == "failed"

    submit(page, bc.TOKEN)
    page.wait_for_selector(".success")
    assert words in page.inner_text("#until")
    (stored,) = bot.runtime.store.list_for_user(bot.slack.team_id, "U0LINKJOB")
    assert stored.purpose == "write" and stored.provided_by == "link"
    assert stored.needed_until.date() == until.date()
    stages = pending_stages(bot, stored.id)
    assert "end-ask" in stages and not any(s.startswith("rotation") for s in stages)
    page.close()
    for call in bot.standin.calls:
        assert bc.TOKEN.encode() not in call.raw and bc.READ_ONLY_TOKEN.encode() not in call.raw


def test_a_link_without_words_carries_the_workspace_default(bot):
    team = bot.slack.team_id
    set_defaults(bot, Defaults(purpose="write"))
    url, shown = make_link(bot, "U0LINKDEF", "bigcommerce for the import")
    assert "for read and write" in shown and "needed until" not in shown
    (request,) = bot.runtime.store.requests_of(team, "U0LINKDEF")
    assert request.purpose == "write" and request.needed_until is None
    assert request.note == "for the import"
    page = httpx.get(url)
    assert "read and write (import, sync in, integration)" in page.text


def test_a_link_whose_end_date_passed_stores_nothing(bot):
    url, _ = make_link(bot, "U0LINKLATE", f"bigcommerce until:{day(0).date().isoformat()}")
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0LINKLATE")
    with bot.runtime.store.engine.begin() as c:
        c.execute(sa.update(CredentialRequest).where(CredentialRequest.id == request.id)
                  .values(needed_until=day(-1)))
    page = httpx.get(url)
    assert page.status_code == 410 and "no longer needed" in page.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', httpx.get(url).text)
    assert csrf is None  # the closed page has no form to submit
    assert bot.runtime.store.list_for_user(bot.slack.team_id, "U0LINKLATE") == []


def test_send_a_link_instead_from_the_ask_modal_carries_the_job(bot):
    asker = bot.person("U0LINKMODAL")
    button = [{"type": "actions", "elements": [{
        "type": "button", "action_id": ids.HOME_ASK_LINK,
        "text": {"type": "plain_text", "text": "Send a link instead"}}]}]  # fmt: skip
    opened = bot.standin.opened_by(asker.click(button, ids.HOME_ASK_LINK))
    until = day(30)
    payload = asker.view_payload(opened.response["view"]["id"], {
        ids.ASK_PLATFORM_BLOCK: "bigcommerce", ids.ASK_NOTE_BLOCK: "the import",
        ids.PURPOSE_BLOCK: "write", ids.NEEDED_UNTIL_BLOCK: until.date().isoformat(),
    })  # fmt: skip
    state = payload["view"]["state"]["values"]
    state[ids.ASK_USER_BLOCK] = {ids.FIELD_VALUE: {"type": "users_select", "selected_user": None}}
    state[ids.ASK_LINK_BLOCK] = {ids.FIELD_VALUE: {
        "type": "checkboxes", "selected_options": [{"value": ids.LINK_CHOICE}]}}  # fmt: skip
    asker.post_payload(payload)
    (told,) = bot.standin.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("channel") == "D0LINKMODAL")
    shown = visible(told.args["blocks"])
    assert LINK.search(shown) and "for read and write" in shown
    assert f"needed until {until:%A} {until.day} {until:%B %Y}" in shown
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0LINKMODAL")
    assert request.by_link and request.purpose == "write"
    assert request.needed_until.date() == until.date()
