"""Hundreds of keys per person (issue 21): 500 keys for one person and 2,000 in the workspace.
`/getkey list`, the App Home tab and the admin view page through all of them (every key
reachable with Next, each surface valid Block Kit) and find keys by platform, store or status."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.slack.ui import ids
from bot.store.models import Credential
from bot.store.seed import seed
from tests.bot_fixtures import RunningBot, install
from tests.slack_standin import SlackSender, check_everything_sent, check_view, find_element
from tests.slack_standin import visible_text as visible

pytest_plugins = ("tests.bot_fixtures",)

ME = "U0MANYKEYS"
OTHERS = tuple(f"U0OTHER{n:02d}" for n in range(30))
PLATFORMS = ("wix", "shopify", "bigcommerce", "ecwid", "woocommerce")
MINE = 500
_teams = itertools.count(1)


def failing(n: int) -> bool:
    return n % 7 == 0


def expired(n: int) -> bool:
    return n % 10 == 3 and not failing(n)


@pytest.fixture
def team(oauth_bot: RunningBot) -> Iterator[str]:
    """A workspace with 500 keys for ME (some failing, some expired) and 1,500 for 30 others.
    Afterwards every message and view the bot sent must be valid Block Kit."""
    name = f"T0MANY{next(_teams):03d}"
    install(oauth_bot, name)
    engine, keyring = oauth_bot.runtime.store.engine, oauth_bot.runtime.store._keyring
    now = datetime.now(UTC)
    seed(engine, keyring, count=MINE, due=0, now=now, team_id=name, users=[ME],
         platforms=PLATFORMS)  # fmt: skip
    seed(engine, keyring, count=1500, due=0, now=now, team_id=name, users=OTHERS,
         platforms=PLATFORMS)  # fmt: skip
    with engine.begin() as conn:
        mine = Credential.team_id == name, Credential.user_id == ME
        for n in range(MINE):
            where = (*mine, Credential.identity == f"store-{n}")
            if failing(n):
                conn.execute(sa.update(Credential).where(*where).values(status="failing"))
            elif expired(n):
                gone = now - timedelta(days=2)
                conn.execute(sa.update(Credential).where(*where).values(expires_at=gone))
    oauth_bot.standin.reset()
    yield name
    assert check_everything_sent(oauth_bot.standin) > 0


def my_ids(bot: RunningBot, team: str) -> dict[str, int]:
    """credential id → n (its "Store n")."""
    with bot.runtime.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(Credential.id, Credential.identity).where(
                Credential.team_id == team, Credential.user_id == ME
            )
        ).all()
    return {cid: int(identity.removeprefix("store-")) for cid, identity in rows}


def listed_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        json.loads(b["accessory"]["value"])["id"]
        for b in blocks
        if (b.get("accessory") or {}).get("action_id") == ids.LIST_DELETE
    ]


def has(blocks: list[dict[str, Any]], action_id: str) -> bool:
    try:
        find_element(blocks, action_id)
    except (AssertionError, StopIteration, KeyError, ValueError):
        return False
    return True


def walk_list(bot: RunningBot, me: SlackSender, words: str = "") -> list[str]:
    """Every key /getkey list shows, following Next to the last page."""
    message = me.answer(f"list {words}".strip())
    seen = listed_ids(message["blocks"])

    def replaced(c: Any) -> bool:
        return c.args.get("replace_original") is True

    while has(message["blocks"], ids.LIST_PAGE + ".next"):
        assert len(message["blocks"]) <= 50
        count = len([c for c in bot.standin.calls_to("response_url") if replaced(c)])
        me.click(message["blocks"], ids.LIST_PAGE + ".next")
        calls = bot.standin.wait_for("response_url", count + 1, where=replaced)
        message = calls[-1].args
        assert message["response_type"] == "ephemeral"
        seen += listed_ids(message["blocks"])
    return seen


def test_list_pages_through_every_key_and_finds_by_platform_store_and_status(
    oauth_bot: RunningBot, team: str
) -> None:
    me = oauth_bot.slack.in_team(team).as_user(ME)
    mine = my_ids(oauth_bot, team)
    first = me.answer("list")
    shown = visible(first["blocks"])
    assert "1–20 of 500 keys" in shown and "every" not in shown.lower()
    assert "*1. BigCommerce*" in json.dumps(first["blocks"])  # numbered in list order

    seen = walk_list(oauth_bot, me)
    assert len(seen) == MINE and set(seen) == set(mine)  # each once, all reachable

    shopify = walk_list(oauth_bot, me, "shopify")
    assert {mine[c] for c in shopify} == {n for n in range(MINE) if PLATFORMS[n % 5] == "shopify"}
    found = me.answer("list store-421")
    assert [mine[c] for c in listed_ids(found["blocks"])] == [421]
    assert "Store 421" in visible(found["blocks"])
    broken = walk_list(oauth_bot, me, "failing")
    assert {mine[c] for c in broken} == {n for n in range(MINE) if failing(n)}
    both = walk_list(oauth_bot, me, "ecwid expired")
    want = {n for n in range(MINE) if PLATFORMS[n % 5] == "ecwid" and expired(n)}
    assert want and {mine[c] for c in both} == want
    nothing = me.answer("list nosuchshop")
    assert "No key matching “nosuchshop”" in visible(nothing["blocks"])


def test_delete_by_number_counts_in_list_order(oauth_bot: RunningBot, team: str) -> None:
    me = oauth_bot.slack.in_team(team).as_user(ME)
    seen = walk_list(oauth_bot, me)
    target = my_ids(oauth_bot, team)[seen[320]]
    opened = oauth_bot.standin.opened_by(me.command("delete 321"))
    assert f"Store {target} ·" in visible(check_view(opened.args["view"]))


def press(sender: SlackSender, view: dict[str, Any], action_id: str, value: str | None = None):
    """Press a button, or type in the search field and press Enter, on the Home tab."""
    block_id, element = find_element(
        [{**b, "elements": [b["element"]]} if b["type"] == "input" else b for b in view["blocks"]],
        action_id,
    )
    action = {"action_id": action_id, "block_id": block_id, "type": element["type"],
              "action_ts": f"{time.time():.6f}",
              "value": value if value is not None else element.get("value")}  # fmt: skip
    payload = {
        **sender._interaction_base("block_actions"),
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home", "blocks": view["blocks"],
                 "private_metadata": view.get("private_metadata", "")},
        "actions": [action],
    }
    assert sender.post_payload(payload).status == 200


def walk_home(
    bot: RunningBot, user: SlackSender, view: dict[str, Any], row: str, action: str
) -> list[str]:
    """Block ids starting with `row` on every page, following Next from `view`."""

    def rows(v: dict[str, Any]) -> list[str]:
        return [b["block_id"] for b in v["blocks"] if b.get("block_id", "").startswith(row)]

    seen = rows(view)
    while has(view["blocks"], action + ".next"):
        count = len(bot.standin.calls_to("views.publish"))
        press(user, view, action + ".next")
        view = bot.standin.wait_for("views.publish", count + 1)[-1].args["view"]
        check_view(view)
        seen += rows(view)
    return seen


def open_home(bot: RunningBot, user: SlackSender) -> dict[str, Any]:
    count = len(bot.standin.calls_to("views.publish"))
    assert user.app_home_opened().status == 200
    return bot.standin.wait_for("views.publish", count + 1)[-1].args["view"]


def test_home_pages_through_every_key_and_searches(oauth_bot: RunningBot, team: str) -> None:
    me = oauth_bot.slack.in_team(team).as_user(ME)
    mine = my_ids(oauth_bot, team)
    home = check_view(open_home(oauth_bot, me))
    shown = visible(home["blocks"])
    assert "1–20 of 500 keys" in shown and "every stored key" not in shown
    seen = walk_home(oauth_bot, me, home, ids.home_row_block(""), ids.HOME_PAGE)
    assert len(seen) == MINE and set(seen) == {ids.home_row_block(c) for c in mine}

    count = len(oauth_bot.standin.calls_to("views.publish"))
    press(me, home, ids.HOME_SEARCH, value="woocommerce failing")
    found = oauth_bot.standin.wait_for("views.publish", count + 1)[-1].args["view"]
    want = {n for n in range(MINE) if PLATFORMS[n % 5] == "woocommerce" and failing(n)}
    rows = {b.get("block_id") for b in found["blocks"]}
    assert {n for c, n in mine.items() if ids.home_row_block(c) in rows} == want
    assert "woocommerce failing" in json.dumps(found)  # the search field keeps the words


def test_admin_view_pages_through_the_whole_workspace(oauth_bot: RunningBot, team: str) -> None:
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    admin = oauth_bot.slack.in_team(team).as_user("U0ADMIN01")
    home = open_home(oauth_bot, admin)
    count = len(oauth_bot.standin.calls_to("views.publish"))
    press(admin, home, ids.ADMIN_OPEN)
    view = oauth_bot.standin.wait_for("views.publish", count + 1)[-1].args["view"]
    assert "1–30 of 2000 keys" in visible(view["blocks"])
    seen = walk_home(oauth_bot, admin, view, ids.admin_row_block(""), ids.ADMIN_PAGE)
    with oauth_bot.runtime.store.engine.connect() as conn:
        every = conn.scalars(sa.select(Credential.id).where(Credential.team_id == team)).all()
    assert len(seen) == 2000 and set(seen) == {ids.admin_row_block(c) for c in every}

    count = len(oauth_bot.standin.calls_to("views.publish"))
    press(admin, view, ids.ADMIN_SEARCH, value=OTHERS[3])
    found = oauth_bot.standin.wait_for("views.publish", count + 1)[-1].args["view"]
    assert "of 50 keys" in visible(found["blocks"]) or "All 50 keys" in visible(found["blocks"])
