"""The workspace's support contact on a link page (issue 19), in a real browser: a web page or
an email address becomes a link, a Slack person or channel (meaningless outside Slack) sends
the reader to whoever sent the link, a refused key names the contact in its problem box, and
with no contact the page says nothing new. The contact is an admin's input: what it carries
stays text (no attribute, no element, no script)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.store.admin import Defaults
from tests.bot_fixtures import bot_server_fixture, checked_bot_fixture
from tests.browser import PHONE, browser  # noqa: F401 - a fixture
from tests.platforms import wix
from tests.test_link_pages import fill_wix, make_link

bot_server = bot_server_fixture(links=True)
bot = checked_bot_fixture()
WRONG = wix.KEY[:-3] + "zzz"  # the right shape, refused by Wix

HOSTILE = 'https://help.example.com/"onmouseover="document.title=1'


def set_contact(running: Any, contact: str | None) -> None:
    running.runtime.store.set_workspace_defaults(
        running.slack.team_id, None, Defaults(support_contact=contact), actor="test")
    running.runtime.admins.forget(running.slack.team_id)


def open_link(running: Any, browser: Any) -> Any:  # noqa: F811
    url, _, _ = make_link(running, "U0ASKER")
    page = browser.new_context(viewport=PHONE).new_page()
    assert page.goto(url).status == 200
    return page


def test_no_contact_keeps_the_page_as_it_was(bot, browser) -> None:  # noqa: F811
    set_contact(bot, None)
    page = open_link(bot, browser)
    assert page.query_selector("#help") is None and "Need help" not in page.content()
    fill_wix(page, WRONG)
    page.click("button[type=submit]")
    page.wait_for_selector("#problem")
    assert "Need help" not in page.inner_text("#problem")
    page.context.close()


@pytest.mark.parametrize(("stored", "href", "words"), [
    ("url:https://help.example.com/getkey", "https://help.example.com/getkey",
     "Need help? Ask https://help.example.com/getkey."),
    ("email:help@example.com", "mailto:help@example.com", "Need help? Ask help@example.com."),
    (f"url:{HOSTILE}", HOSTILE, f"Need help? Ask {HOSTILE}."),
])
def test_a_page_or_an_email_is_a_link(bot, browser, stored, href, words) -> None:  # noqa: F811
    set_contact(bot, stored)
    page = open_link(bot, browser)
    assert page.inner_text("#help") == words
    links = page.query_selector_all("#help a")
    assert [a.get_attribute("href") for a in links] == [href]
    # Whatever the address holds stays inside the href: no attribute or element of its own.
    assert page.query_selector("[onmouseover]") is None
    assert page.evaluate("document.querySelectorAll('#help *').length") == 1
    page.hover("#help a")
    assert page.title() != "1"

    # A refused key: the problem box names the contact.
    fill_wix(page, WRONG)
    page.click("button[type=submit]")
    page.wait_for_selector("#problem")
    problem = page.inner_text("#problem")
    assert "Wix did not accept this key" in problem and words in problem
    assert [a.get_attribute("href") for a in page.query_selector_all("#problem a[href]")
            if a.get_attribute("href") == href] == [href]
    page.context.close()


@pytest.mark.parametrize("stored", ["user:U0HELPER1", "channel:C0HELPDSK"])
def test_a_slack_contact_sends_the_reader_to_whoever_sent_the_link(
    bot, browser, stored  # noqa: F811
) -> None:
    set_contact(bot, stored)
    page = open_link(bot, browser)
    assert page.inner_text("#help") == (
        "Need help? Ask Test Person (getkey-test), who sent you this link.")
    assert stored.split(":")[1] not in page.content()
    page.context.close()
