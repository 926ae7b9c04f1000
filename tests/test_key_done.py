"""`/getkey done <n>` and the Done button of /getkey list and the App Home (issue 19): the
key's job is over at any time. The real app over real sockets, the local Slack and a local
webhook receiver: getkey deletes its copy (audit, change feed, `credential.deleted` webhook),
the owner sees that platform's revocation steps, a provider who is someone else gets them too.
A wrong number, no keys or someone else's key change nothing."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from bot.slack.listeners import commands, ending
from bot.slack.ui import ids, messages
from bot.slack.ui.text import MESSAGE_BLOCKS, escape
from bot.store.listing import Page
from flows import catalog
from flows.base import VerifyResult
from tests.blockkit import validate_blocks
from tests.bot_fixtures import BOT_TOKEN, start_bot
from tests.builders import credential_info
from tests.platforms import wix
from tests.slack_standin import (
    SlackStandIn,
    check_everything_sent,
    check_view,
    find_element,
)
from tests.slack_standin import visible_text as visible
from tests.test_home import open_home, press_on_home
from tests.test_webhooks import Receiver

if TYPE_CHECKING:
    from tests.bot_fixtures import RunningBot

WIX = catalog.get("wix")
STEPS = [escape(step.title) for step in WIX.revoke_steps]
_people = itertools.count(1)


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningBot, Receiver]]:
    """A running bot whose workspace has a webhook to a local receiver."""
    with SlackStandIn(bot_token=BOT_TOKEN) as standin, wix.WixServer() as platform:
        bot, stop = start_bot(tmp_path_factory.mktemp("done"), standin, [platform],
                              extra_env={"GETKEY_WEBHOOK_ALLOW_PRIVATE": "1"})
        receiver = Receiver().up()
        bot.runtime.store.set_webhook(bot.slack.team_id, receiver.url, allow_private=True)
        try:
            yield bot, receiver
        finally:
            receiver.down()
            stop()


@pytest.fixture
def me(hooked: tuple[RunningBot, Receiver]) -> Iterator[RunningBot]:
    """The module's bot, seen by a new person; afterwards every message and view it sent is
    valid Block Kit and none carries the key."""
    running, _ = hooked
    running.standin.reset()
    yield as_person(running, f"U{next(_people):03d}DONE00")
    check_everything_sent(running.standin)
    for call in running.standin.calls:
        assert wix.KEY.encode() not in call.raw, call.method


def as_person(bot: RunningBot, user: str) -> RunningBot:
    return dataclasses.replace(bot, slack=bot.slack.as_user(user))


def keep(bot: RunningBot, store_name: str, account: str, provided_by: str | None = None):
    return bot.runtime.store.save(
        team_id=bot.slack.team_id, user_id=bot.slack.user_id, flow=WIX,
        values={**wix.good_values(), "account_id": account},
        result=VerifyResult(ok=True, store_name=store_name), provided_by=provided_by,
    ).credential  # fmt: skip


def three_keys(bot: RunningBot) -> dict[str, str]:
    """Three keys; store name → id."""
    names = ("Alder Shop", "Birch Shop", "Cedar Shop")
    return {n: keep(bot, n, f"0b9a8c7d-1e2f-4a3b-9c8d-7e6f5a4b3c{i:02d}").id
            for i, n in enumerate(names)}


def numbered(bot: RunningBot) -> dict[int, str]:
    """n → credential id, as /getkey list numbers them (the Delete button's row)."""
    listing = bot.slack.answer("list")
    out = {}
    for block in listing["blocks"]:
        if (block.get("accessory") or {}).get("action_id") == ids.LIST_DELETE:
            n = int(block["text"]["text"].split(".", 1)[0].strip("*"))
            out[n] = json.loads(block["accessory"]["value"])["id"]
    return out


def mine(bot: RunningBot) -> set[str]:
    return {c.id for c in bot.runtime.store.list_for_user(bot.slack.team_id, bot.slack.user_id)}


def test_done_by_number_forgets_that_key_shows_the_steps_and_the_deletion_goes_out(
    me: RunningBot, hooked: tuple[RunningBot, Receiver]
) -> None:
    _, receiver = hooked
    keys = three_keys(me)
    order = numbered(me)
    target = order[2]
    name = next(n for n, cid in keys.items() if cid == target)

    sent = me.slack.command("done 2")
    opened = me.standin.opened_by(sent)
    confirm = check_view(opened.args["view"])
    assert name in visible(confirm) and "revoke" in visible(confirm)
    assert mine(me) == set(keys.values())  # nothing before confirming

    ack = me.slack.submit(opened.response["view"]["id"], {}).json()
    assert ack["response_action"] == "update"
    shown = visible(check_view(ack["view"]))
    assert "deleted its copy" in shown and name in shown
    assert STEPS and all(step in shown for step in STEPS)  # Wix's own steps
    assert mine(me) == set(keys.values()) - {target}
    assert me.runtime.store.get(target) is None
    assert [e.action for e in me.runtime.store.audit_events(target)][-1] == "deleted"
    last = me.runtime.store.changes_since(me.slack.team_id)[-1]
    assert (last.type, last.credential_id) == ("credential.deleted", target)
    me.on_loop(me.runtime.webhooks.drain())
    bodies = [json.loads(r["body"]) for r in receiver.received]
    deleted = [b for b in bodies if b["type"] == "credential.deleted"]
    assert [b["data"]["credential"]["id"] for b in deleted][-1] == target
    assert wix.KEY not in json.dumps(bodies) and wix.KEY not in json.dumps(ack)


@pytest.mark.parametrize("typed", ["done 4", "done 0", "done two", "done -1"])
def test_a_wrong_number_explains_and_changes_nothing(me: RunningBot, typed: str) -> None:
    keys = three_keys(me)
    said = me.standin.reply_to(me.slack.command(typed)).args["text"]
    assert "no key number" in said and "you have 3" in said
    assert me.standin.calls_to("views.open") == []
    assert mine(me) == set(keys.values())


def test_no_keys_or_no_number_explains(me: RunningBot) -> None:
    said = me.standin.reply_to(me.slack.command("done 1")).args["text"]
    assert "no stored keys" in said
    three_keys(me)
    which = me.standin.reply_to(me.slack.command("done"))
    assert "`/getkey done <number>`" in which.args["text"]
    find_element(which.args["blocks"], ids.LIST_DONE)  # pick it in the list instead
    assert me.standin.calls_to("views.open") == [] and len(mine(me)) == 3


def test_done_alone_with_one_key_asks_about_that_key(me: RunningBot) -> None:
    info = keep(me, "Fir Shop", wix.ACCOUNT)
    opened = me.standin.opened_by(me.slack.command("done"))
    assert "Fir Shop" in visible(check_view(opened.args["view"]))
    assert me.runtime.store.get(info.id) is not None  # closing the modal keeps it


def test_someone_elses_key_is_refused(me: RunningBot) -> None:
    """A stranger's numbers count only their own keys; a forged confirmation for the owner's
    key id (as a copied list button would give) finds nothing to do."""
    keys = three_keys(me)
    stranger = as_person(me, f"U{next(_people):03d}STRNGR")
    said = stranger.standin.reply_to(stranger.slack.command("done 1")).args["text"]
    assert "no stored keys" in said
    owners = numbered(me)
    forged = {"type": "actions", "block_id": "b", "elements": [{
        "type": "button", "action_id": ids.LIST_DONE, "text": {"type": "plain_text", "text": "x"},
        "value": json.dumps({"id": owners[1], "label": "Alder"})}]}  # fmt: skip
    opened = stranger.standin.opened_by(stranger.slack.click([forged], ids.LIST_DONE))
    ack = stranger.slack.submit(opened.response["view"]["id"], {}).json()
    assert "no longer stored" in visible(ack["view"])
    assert mine(me) == set(keys.values())
    assert not any(step in visible(ack["view"]) for step in STEPS)


def test_the_list_button_finishes_that_key(me: RunningBot) -> None:
    keys = three_keys(me)
    listing = me.slack.answer("list")
    button = next(e for b in listing["blocks"] if b["type"] == "actions"
                  for e in b["elements"] if e["action_id"] == ids.LIST_DONE
                  and json.loads(e["value"])["id"] == keys["Cedar Shop"])  # fmt: skip
    assert button["text"]["text"] == "Done with it"
    sent = me.slack.click([{"type": "actions", "block_id": "x", "elements": [button]}],
                          ids.LIST_DONE)
    opened = me.standin.opened_by(sent)
    assert "Cedar Shop" in visible(opened.args["view"])
    ack = me.slack.submit(opened.response["view"]["id"], {}).json()
    assert all(step in visible(ack["view"]) for step in STEPS)
    assert mine(me) == {keys["Alder Shop"], keys["Birch Shop"]}


def test_the_home_button_finishes_the_key_refreshes_home_and_sends_the_steps(
    me: RunningBot,
) -> None:
    keys = three_keys(me)
    view = open_home(me)
    assert press_on_home(me, view, ids.END_DONE, keys["Birch Shop"]) == 200
    published = me.standin.wait_for(
        "views.publish", 2, where=lambda c: c.args.get("user_id") == me.slack.user_id)
    after = visible(published[-1].args["view"])
    assert "Birch Shop" not in after and "Alder Shop" in after
    dm = "D" + me.slack.user_id[1:]
    (steps,) = me.standin.wait_for("chat.postMessage",
                                   where=lambda c: c.args.get("channel") == dm)
    assert all(step in visible(steps.args["blocks"]) for step in STEPS)
    assert mine(me) == {keys["Alder Shop"], keys["Cedar Shop"]}


def test_a_provided_key_sends_the_steps_to_its_provider(me: RunningBot) -> None:
    provider = f"U{next(_people):03d}PROVID"
    info = keep(me, "Dogwood Shop", wix.ACCOUNT, provided_by=provider)
    opened = me.standin.opened_by(me.slack.command("done 1"))
    ack = me.slack.submit(opened.response["view"]["id"], {}).json()
    assert all(step in visible(ack["view"]) for step in STEPS)
    (told,) = me.standin.wait_for("chat.postMessage",
                                  where=lambda c: c.args.get("channel") == "D" + provider[1:])
    assert f"<@{me.slack.user_id}>" in visible(told.args["blocks"])
    assert all(step in visible(told.args["blocks"]) for step in STEPS)
    assert me.runtime.store.get(info.id) is None


def test_a_slow_hand_back_answers_at_once_and_sends_the_steps_after(
    me: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = keep(me, "Elm Shop", wix.ACCOUNT)
    monkeypatch.setattr(ending, "ACK_BUDGET", 0.0)
    opened = me.standin.opened_by(me.slack.command("done 1"))
    ack = me.slack.submit(opened.response["view"]["id"], {}).json()
    assert "direct message" in visible(ack["view"])
    dm = "D" + me.slack.user_id[1:]
    (steps,) = me.standin.wait_for("chat.postMessage",
                                   where=lambda c: c.args.get("channel") == dm)
    assert "deleted its copy" in visible(steps.args["blocks"])
    assert all(step in visible(steps.args["blocks"]) for step in STEPS)
    assert me.runtime.store.get(info.id) is None


def test_help_mentions_done(me: RunningBot) -> None:
    assert "/getkey done <number>" in visible(me.slack.answer("help")["blocks"])


def test_every_list_page_fits_with_done_buttons_and_requests() -> None:
    """20 keys a page, each with Delete and Done, plus the person's requests: valid Block Kit,
    within 50 blocks, every key of the page and Next still there."""
    from bot.store.requests import RequestInfo

    now = datetime.now(UTC)
    infos = [credential_info(id=f"id-{n}", store_name=f"Shop {n}") for n in range(45)]
    asked = [RequestInfo(id=f"r{n}", team_id="T1", user_id="U1", provider_id="U2",
                         platform="wix", note="", channel_id=None, state="open", detail="",
                         created_at=now, expires_at=now + timedelta(days=7), credential_id=None)
             for n in range(8)]  # fmt: skip
    for offset in (0, 20, 40):
        page = Page(infos[offset:offset + 20], offset=offset, total=45)
        shown = commands.list_message(page, asked if offset == 0 else [], "")["blocks"]
        validate_blocks(shown, surface="message")
        assert len(shown) <= MESSAGE_BLOCKS
        done = [json.loads(e["value"])["id"] for b in shown if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == ids.LIST_DONE]
        assert done == [i.id for i in page.infos]
        assert (offset < 40) == ("Next" in visible(shown))
    assert "Your requests" in visible(commands.list_message(
        Page(infos[:20], offset=0, total=45), asked, "")["blocks"])
    assert messages.list_blocks(Page([], offset=0, total=0))  # no keys: still a message



def test_the_done_modal_is_valid_for_every_platform() -> None:
    """Whatever a platform's revocation steps, the outcome modal fits Slack's limits and shows
    them all."""
    from bot.slack.ui.ending import ended_message, message_view

    for flow in catalog.all_flows():
        info = credential_info(platform=flow.id, store_name="Shop <b>")
        view = check_view(message_view("Key done", ended_message(
            info, why=ending.DONE_WHY, steps=True, contact="#help")))  # fmt: skip
        shown = visible(view)
        assert all(escape(step.title) in shown for step in flow.revoke_steps), flow.id
        assert "<b>" not in shown
