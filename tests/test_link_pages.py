"""Requests by link, in a real browser (headless chromium) against the real bot, the Slack
stand-in and a local Wix: `/getkey request link wix` → the link → the guide → a format mistake
on its field → a key Wix refuses → the right key → the verified page → the requester told in
Slack. Closed links (expired, cancelled, used, locked) each get a clear page; a form without
the CSRF token is refused. Neither the key nor the link's token reaches a log line, the page
after submitting, the database file or a Slack call (the token: except the one ephemeral
answer that hands the link to the requester)."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import sqlalchemy as sa

from bot.logs import install_redaction
from bot.slack.ui import ids
from bot.store.sharing_models import CredentialRequest
from flows.wix import WixFlow
from tests.bot_fixtures import RunningBot, bot_server_fixture, checked_bot_fixture
from tests.browser import DESKTOP, PHONE, browser, screenshot  # noqa: F401 - a fixture
from tests.platforms import wix as wix_platform
from tests.slack_standin import find_element
from tests.slack_standin import visible_text as visible
from tests.test_requests import describe

KEY = wix_platform.KEY
WRONG = KEY[:-3] + "zzz"  # the right shape, refused by Wix
LINK = re.compile(r"http://127\.0\.0\.1:\d+/k/([A-Za-z0-9_-]{43})")


bot_server = bot_server_fixture(links=True)
bot = checked_bot_fixture()


def make_link(bot: RunningBot, requester: str, text: str = "wix for the store migration"):
    bot.standin.reset()
    sent = bot.person(requester).command("request link " + text)
    said = bot.standin.reply_to(sent)
    found = LINK.search(visible(said.args["blocks"]))
    assert found, visible(said.args["blocks"])
    return found.group(0), found.group(1), said


def fill_wix(page: Any, key: str, account: str = wix_platform.ACCOUNT) -> None:
    page.fill("#f-api_key", key)
    page.fill("#f-account_id", account)


def test_link_journey_in_a_browser(bot, browser, caplog):  # noqa: F811 - the fixture
    install_redaction()  # as `getkey serve` does (configure_logging)
    caplog.set_level(logging.DEBUG)
    calls: list[Any] = []
    journal: list[str] = []

    def step(title: str) -> None:
        journal.append(f"-- {title}")
        journal.extend("   " + describe(c) for c in bot.standin.calls)
        calls.extend(bot.standin.calls)
        bot.standin.reset()

    url, token, said = make_link(bot, "U0ASKER")
    shown = visible(said.args["blocks"])
    assert "Wix" in shown and "works once, until" in shown
    assert find_element(said.args["blocks"], ids.LINK_CANCEL)
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKER")
    assert request.by_link and request.state == "open" and request.note == "for the store migration"
    step("/getkey request link wix for the store migration")

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    console: list[str] = []  # the browser's own complaints (a CSP violation would show here)
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    response = page.goto(url)
    assert response.status == 200
    headers = response.headers
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"
    heading = page.inner_text("h1")
    # Who asks: the name Slack gives (users.info) and the workspace.
    assert heading == "Test Person (getkey-test) asks you for a Wix API key"
    assert page.inner_text("blockquote") == "for the store migration"
    # The guide comes from the flow itself: every step title, the mistakes, the fields.
    guide = page.inner_text("section.guide")
    assert all(s.title in guide for s in WixFlow.steps)
    # The Wix key is long: a textarea (line breaks kept), masked like a password input.
    assert _masked(page, "#f-api_key")
    assert page.is_visible("button[data-toggle='f-api_key']")  # the script ran
    (opened,) = bot.standin.dms("U0ASKER")
    assert "Your link for a Wix key was opened" in opened.args["text"]
    assert bot.runtime.store.get_request(request.id).state == "opened"
    screenshot(page, "link-guide-phone")
    step("the link is opened in a browser")

    # A format mistake: on its field, tied to it for screen readers; Wix never asked.
    fill_wix(page, "not-a-wix-key")
    page.click("button[type=submit]")
    page.wait_for_selector("#err-api_key")
    expected = WixFlow().check({"api_key": "not-a-wix-key"}).errors["api_key"]
    assert page.inner_text("#err-api_key") == expected and "IST." in expected
    assert page.get_attribute("#f-api_key", "aria-invalid") == "true"
    assert "err-api_key" in page.get_attribute("#f-api_key", "aria-describedby")
    assert page.input_value("#f-api_key") == ""  # a secret is never refilled
    assert page.input_value("#f-account_id") == wix_platform.ACCOUNT
    assert bot.platforms["wix"].requests == []
    screenshot(page, "link-error-phone", around="label[for=f-api_key]")
    step("a key of the wrong shape")

    # The show toggle reveals what is typed, without JavaScript it stays a password input.
    page.fill("#f-api_key", WRONG)
    page.click("button[data-toggle='f-api_key']")
    assert not _masked(page, "#f-api_key")
    page.fill("#f-account_id", wix_platform.ACCOUNT)
    page.click("button[type=submit]")
    page.wait_for_selector("#problem")
    assert "Wix did not accept this key" in page.inner_text("#problem")
    assert "9 tries left" in page.inner_text("#problem")
    assert WRONG not in page.content()
    (failed,) = bot.standin.dms("U0ASKER")
    assert "failed" in failed.args["text"] and WRONG not in failed.args["text"]
    assert bot.runtime.store.get_request(request.id).state == "failed"
    step("a key Wix refuses")

    fill_wix(page, KEY)
    page.fill("#f-provider_name", "Pat at the Plant Shop")
    page.click("button[type=submit]")
    page.wait_for_selector(".success")
    done = page.inner_text(".success")
    assert "The Plant Shop" in done and KEY[-4:] in done and "Test Person" in done
    source = page.content()
    assert KEY not in source and token not in source.replace(url, "")
    screenshot(page, "link-verified-phone")
    (confirmation,) = bot.standin.dms("U0ASKER")
    told = visible(confirmation.args["blocks"])
    assert "The Plant Shop" in told and "provided through your link" in told
    (stored,) = bot.runtime.store.list_for_user(bot.slack.team_id, "U0ASKER")
    assert stored.provided_by == "link" and stored.store_name == "The Plant Shop"
    finished = bot.runtime.store.get_request(request.id)
    assert finished.state == "fulfilled" and finished.credential_id == stored.id
    assert finished.provider_name == "Pat at the Plant Shop"
    step("the right key")

    # Used: the link shows that it is finished.
    again = page.goto(url)
    assert again.status == 410 and page.inner_text("h1") == "A key was already provided"
    sent = bot.person("U0ASKER").command("list")
    listing = bot.standin.reply_to(sent)
    assert "The Plant Shop" in visible(listing.args["blocks"])
    step("the link opened again; /getkey list")
    context.close()
    # (4xx statuses and the missing favicon are reported too: only CSP refusals matter here.)
    assert not [m for m in console if "Content Security Policy" in m or "Refused to" in m]
    assert any("422" in m for m in console)  # the listener did hear the browser

    print("\nRecorded Slack calls of the link journey:\n" + "\n".join(journal))
    # The token went to the requester once, in the ephemeral answer; the key never to Slack.
    carrying = [c for c in calls if token.encode() in c.raw]
    assert [c.method for c in carrying] == ["response_url"] and carrying[0].raw == said.raw
    assert not [c for c in calls if KEY.encode() in c.raw or WRONG.encode() in c.raw]
    for record in caplog.records:
        line = record.getMessage() + repr(record.__dict__)
        assert token not in line and KEY not in line and WRONG not in line
    raw = bot.db_path.read_bytes() + _wal(bot)
    assert token.encode() not in raw and KEY.encode() not in raw


def _masked(page: Any, selector: str) -> bool:
    return page.eval_on_selector(
        selector, "e => getComputedStyle(e).webkitTextSecurity === 'disc' || e.type === 'password'"
    )


def _wal(bot: RunningBot) -> bytes:
    wal = bot.db_path.with_name(bot.db_path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_the_pages_at_desktop_width(bot, browser):  # noqa: F811 - the fixture
    url, _, _ = make_link(bot, "U0DESK")
    page = browser.new_page(viewport=DESKTOP)
    page.goto(url)
    screenshot(page, "link-guide-desktop")
    fill_wix(page, "IST.short")
    page.click("button[type=submit]")
    page.wait_for_selector("#err-api_key")
    screenshot(page, "link-error-desktop", around="label[for=f-api_key]")
    fill_wix(page, KEY)
    page.click("button[type=submit]")
    page.wait_for_selector(".success")
    screenshot(page, "link-verified-desktop")
    page.close()


def test_without_javascript_the_form_still_works(bot, browser):  # noqa: F811 - the fixture
    url, _, _ = make_link(bot, "U0NOJS")
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(url)
    assert not page.is_visible("button[data-toggle='f-api_key']")
    fill_wix(page, KEY)
    page.keyboard.press("Enter")  # keyboard only
    page.wait_for_selector(".success")
    assert "The Plant Shop" in page.inner_text(".success")
    context.close()


def _set(bot: RunningBot, request_id: str, **values: Any) -> None:
    with bot.runtime.store.engine.begin() as conn:
        conn.execute(sa.update(CredentialRequest).where(CredentialRequest.id == request_id)
                     .values(**values))


def test_expired_cancelled_and_locked_links_each_say_so(bot, browser):  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    store = bot.runtime.store

    url, _, _ = make_link(bot, "U0LATE")
    (late,) = store.requests_of(bot.slack.team_id, "U0LATE")
    _set(bot, late.id, expires_at=late.created_at.replace(year=late.created_at.year - 1))
    assert page.goto(url).status == 410
    assert page.inner_text("h1") == "This link has expired"

    url, _, said = make_link(bot, "U0CANCEL")
    bot.standin.reset()
    sent = bot.person("U0CANCEL").click(said.args["blocks"], ids.LINK_CANCEL)
    answer = bot.standin.reply_to(sent)
    assert "Link cancelled" in answer.args["text"]
    assert page.goto(url).status == 410
    assert page.inner_text("h1") == "This request was cancelled"

    # Locked: after the tenth refused key, the link accepts nothing and the requester is told.
    url, _, _ = make_link(bot, "U0LOCK")
    (locking,) = store.requests_of(bot.slack.team_id, "U0LOCK")
    _set(bot, locking.id, failures=9)
    page.goto(url)
    fill_wix(page, WRONG)
    page.click("button[type=submit]")
    page.wait_for_selector(".closed")
    assert page.inner_text("h1") == "This link is locked"
    (told,) = bot.standin.wait_for(
        "chat.postMessage", where=lambda c: "locked" in str(c.args.get("text"))
    )
    assert told.args["channel"] == "D0LOCK" and WRONG not in told.args["text"]
    assert store.get_request(locking.id).state == "locked"
    assert page.goto(url).status == 410 and page.inner_text("h1") == "This link is locked"
    wix_calls = len(bot.platforms["wix"].requests)
    fill_wix(page, KEY) if page.is_visible("#f-api_key") else None
    assert len(bot.platforms["wix"].requests) == wix_calls  # no more guesses reach Wix

    assert page.goto(bot.url + "/k/" + "x" * 43).status == 404
    assert page.inner_text("h1") == "This link does not exist"
    page.close()


def test_a_form_without_its_csrf_token_is_refused(bot):
    url, _, _ = make_link(bot, "U0CSRF")
    other_url, _, _ = make_link(bot, "U0OTHER")
    page = httpx.get(other_url)
    other_csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    form = {"api_key": KEY, "account_id": wix_platform.ACCOUNT}
    for extra in ({}, {"csrf": other_csrf}, {"csrf": "0" * 64}):
        refused = httpx.post(url, data={**form, **extra})
        assert refused.status_code == 403 and "This form was refused" in refused.text
        assert refused.headers["x-frame-options"] == "DENY"
    assert bot.platforms["wix"].requests == []
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0CSRF")
    assert request.failures == 0 and request.state in ("open", "opened")
    assert bot.runtime.store.list_for_user(bot.slack.team_id, "U0CSRF") == []


def test_without_a_public_url_the_command_names_the_setting(bot):
    links = bot.runtime.links
    saved, links.public_url = links.public_url, None
    try:
        sent = bot.person("U0NOURL").command("request link wix")
        said = bot.standin.reply_to(sent)
    finally:
        links.public_url = saved
    assert "GETKEY_PUBLIC_URL" in said.args["text"]
    assert bot.runtime.store.requests_of(bot.slack.team_id, "U0NOURL") == []


def test_an_admin_may_cancel_someone_elses_link_and_others_may_not(bot):
    url, _, said = make_link(bot, "U0OWNER")
    bot.standin.reset()
    sent = bot.person("U0NOSY").click(said.args["blocks"], ids.LINK_CANCEL)
    refused = bot.standin.reply_to(sent)
    assert "not one of your links" in refused.args["text"]
    assert httpx.get(url).status_code == 200
    bot.standin.reset()
    admin = bot.person("U0ADMIN")
    bot.standin.admins.add((bot.slack.team_id, "U0ADMIN"))
    sent = admin.click(said.args["blocks"], ids.LINK_CANCEL)
    answer = bot.standin.reply_to(sent)
    assert "Link cancelled" in answer.args["text"]
    assert httpx.get(url).status_code == 410


def test_an_expired_link_is_closed_by_the_tick_and_the_requester_told(bot):
    url, token, _ = make_link(bot, "U0TICK")
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0TICK")
    _set(bot, request.id, expires_at=request.created_at.replace(year=request.created_at.year - 1))
    bot.standin.reset()
    assert bot.on_loop(bot.runtime.tick_requests())[1] >= 1
    (told,) = bot.standin.dms("U0TICK")
    assert "expired" in told.args["text"] and "`/getkey request link wix`" in told.args["text"]
    assert token not in told.args["text"]
    assert bot.runtime.store.get_request(request.id).state == "expired"
    assert httpx.get(url).status_code == 410
