"""Install by OAuth in many workspaces, through the real app and the Slack stand-in: the
install journey, tokens encrypted at rest, per-workspace clients outside requests, token
refresh, uninstall and reinstall, retention, Grid org-wide installs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.store import Keyring, Store
from bot.store.crypto import generate_key
from tests import builders
from tests.bot_fixtures import RunningBot, begin_install, finish_install, install
from tests.platforms import wix

pytest_plugins = ("tests.bot_fixtures",)

TEAM_A, TEAM_B = "T0ALPHA01", "T0BRAVO02"


def eventually(check: Any, timeout: float = 10.0) -> None:
    """Event listeners run after the ack: wait for what they do."""
    import time

    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.05)


def tokens_of(bot: RunningBot, team: str) -> list[str]:
    return [t for t, o in bot.standin.tokens.items() if o["team_id"] == team]


def raw_database(bot: RunningBot) -> bytes:
    return b"".join(p.read_bytes() for p in bot.db_path.parent.glob(bot.db_path.name + "*"))


def store_key(bot: RunningBot, team: str, user: str, *, enterprise: str | None = None) -> Any:
    return builders.store_key(
        bot, team, user, f"Shop of {team}", expires_in=timedelta(days=5), enterprise=enterprise
    )


def sweep(bot: RunningBot) -> list[Any]:
    # Far enough ahead that every planned reminder is due (only the latest stage goes out).
    return builders.sweep(bot, timedelta(days=60))


def dms_to(bot: RunningBot, user: str) -> list[Any]:
    return [c for c in bot.standin.calls_to("chat.postMessage")
            if c.args.get("channel") == "D" + user[1:]]


def test_install_journey_stores_encrypted_tokens_and_serves_the_workspace(
    oauth_bot: RunningBot,
) -> None:
    bot = oauth_bot
    link, state, cookie = begin_install(bot.url)
    query = parse_qs(urlsplit(link).query)
    assert query["client_id"] == [bot.standin.client_id]
    assert "chat:write" in query["scope"][0] and "commands" in query["scope"][0]
    done = finish_install(bot.url, bot.standin.authorize(TEAM_A), state, cookie)
    assert done.status_code == 200
    (token,) = tokens_of(bot, TEAM_A)
    found = bot.runtime.store.find_installation(None, TEAM_A)
    assert found is not None and found.bot_token == token
    # Never in clear in the database file (nor its WAL), nor the client secret.
    raw = raw_database(bot)
    assert token.encode() not in raw
    assert bot.standin.client_secret.encode() not in raw
    # The workspace's requests are answered with its own token.
    bot.standin.reset()
    person = bot.slack.in_team(TEAM_A).as_user("U0ANNA")
    sent = person.command("list")
    assert sent.status == 200
    listed = bot.standin.reply_to(sent)
    assert "no keys" in listed.args["text"].lower() or listed.args["text"]
    # Bolt authorized the request with the workspace's token (auth.test answered by Slack).
    (checked,) = bot.standin.calls_to("auth.test")
    assert checked.team_id == TEAM_A


def test_a_state_is_accepted_once_by_any_instance_and_refused_when_forged(
    oauth_bot: RunningBot,
) -> None:
    bot = oauth_bot
    _, state, cookie = begin_install(bot.url)
    first = finish_install(bot.url, bot.standin.authorize("T0ONCE001"), state, cookie)
    assert first.status_code == 200
    again = finish_install(bot.url, bot.standin.authorize("T0ONCE001"), state, cookie)
    assert again.status_code == 401
    forged = "x" * 43
    refused = finish_install(bot.url, bot.standin.authorize("T0FORGED1"), forged,
                             f"slack-app-oauth-state={forged}")
    assert refused.status_code == 401
    assert bot.runtime.store.find_installation(None, "T0FORGED1") is None


def test_reminders_use_each_workspaces_own_token(oauth_bot: RunningBot) -> None:
    bot = oauth_bot
    install(bot, TEAM_A)
    install(bot, TEAM_B)
    store_key(bot, TEAM_A, "U0AMY")
    store_key(bot, TEAM_B, "U0BEN")
    bot.standin.reset()
    sent = sweep(bot)
    assert {s.owner for s in sent} >= {"U0AMY", "U0BEN"}
    (to_amy,) = dms_to(bot, "U0AMY")
    (to_ben,) = dms_to(bot, "U0BEN")
    assert (to_amy.team_id, to_ben.team_id) == (TEAM_A, TEAM_B)


def test_uninstall_deletes_tokens_stops_reminders_and_a_reinstall_finds_everything(
    oauth_bot: RunningBot,
) -> None:
    bot = oauth_bot
    team = "T0LEAVER1"
    install(bot, team)
    info = store_key(bot, team, "U0LEAVE")
    bot.standin.revoke(team)  # Slack revokes the tokens, then tells the app
    reply = bot.slack.in_team(team).event({"type": "app_uninstalled"})
    assert reply.status == 200
    eventually(lambda: bot.runtime.store.find_installation(None, team) is None)
    assert bot.runtime.store.workspace(None, team).uninstalled_at is not None
    bot.standin.reset()
    sweep(bot)
    assert dms_to(bot, "U0LEAVE") == []
    # Credentials stay, encrypted.
    assert bot.runtime.store.get(info.id) is not None
    assert wix.KEY.encode() not in raw_database(bot)
    install(bot, team)
    sweep(bot)
    (dm,) = dms_to(bot, "U0LEAVE")
    assert dm.team_id == team
    actions = [e.action for e in bot.runtime.store.audit_events()
               if e.detail.endswith(f"team {team}") or f"team {team};" in e.detail]
    assert "uninstalled" in actions and actions.count("installed") == 2


def test_tokens_revoked_deletes_the_bot_token_at_once(oauth_bot: RunningBot) -> None:
    bot = oauth_bot
    team = "T0REVOKE1"
    install(bot, team)
    reply = bot.slack.in_team(team).event(
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOTUSER"]}}
    )
    assert reply.status == 200
    eventually(lambda: bot.runtime.store.find_installation(None, team) is None)


def test_retention_purges_only_workspaces_uninstalled_long_enough(oauth_bot: RunningBot) -> None:
    bot = oauth_bot
    store = bot.runtime.store
    install(bot, "T0OLDGONE")
    install(bot, "T0STAYING")
    old = store_key(bot, "T0OLDGONE", "U0OLD")
    kept = store_key(bot, "T0STAYING", "U0KEPT")
    store.uninstall(None, "T0OLDGONE", actor="test")
    assert bot.on_loop(bot.runtime.purge_uninstalled()) == 0  # not yet: 30 days by default
    later = Store(store.engine, Keyring.from_env(bot.environ["GETKEY_ENCRYPTION_KEYS"]),
                  clock=lambda: datetime.now(UTC) + timedelta(days=31))
    assert later.purge_uninstalled(30) == 1
    assert store.get(old.id) is None and store.get(kept.id) is not None


def test_rotating_tokens_are_refreshed_before_a_reminder_goes_out(oauth_bot: RunningBot) -> None:
    bot = oauth_bot
    team = "T0ROTATE1"
    # Expires within the refresh margin (2 hours): the next use must refresh it first.
    install(bot, team, rotating=True, expires_in=600)
    (first,) = tokens_of(bot, team)
    store_key(bot, team, "U0ROTA")
    bot.standin.reset()
    sweep(bot)
    (dm,) = dms_to(bot, "U0ROTA")
    refreshes = [c for c in bot.standin.calls_to("oauth.v2.access")
                 if c.args.get("grant_type") == "refresh_token"]
    assert len(refreshes) == 1
    used = dm.headers["authorization"].removeprefix("Bearer ")
    assert used != first and used.startswith("xoxe.xoxb-")
    saved = bot.runtime.store.find_installation(None, team)
    assert saved.bot_token == used and saved.bot_refresh_token
    assert used.encode() not in raw_database(bot)
    assert saved.bot_refresh_token.encode() not in raw_database(bot)


def test_keys_rotate_reencrypts_the_slack_tokens(oauth_bot: RunningBot) -> None:
    bot = oauth_bot
    install(bot, "T0KEYROT1")
    old_key = bot.environ["GETKEY_ENCRYPTION_KEYS"]
    new_key = generate_key()
    rotated = Store(bot.runtime.store.engine, Keyring.from_env(f"{new_key},{old_key}"))
    report = rotated.rotate_keys()
    assert report.reencrypted >= 1
    only_new = Store(bot.runtime.store.engine, Keyring.from_env(new_key))
    found = only_new.find_installation(None, "T0KEYROT1")
    assert found is not None and found.bot_token in tokens_of(bot, "T0KEYROT1")


def test_a_token_copied_into_another_workspaces_row_does_not_decrypt(
    oauth_bot: RunningBot,
) -> None:
    import sqlalchemy as sa

    from bot.store.crypto import DecryptError

    bot = oauth_bot
    install(bot, "T0COPYSRC")
    install(bot, "T0COPYDST")
    with bot.runtime.store.engine.begin() as conn:
        src = conn.execute(sa.text(
            "SELECT bot_token FROM installation WHERE team_id = 'T0COPYSRC'")).scalar()
        conn.execute(sa.text("UPDATE installation SET bot_token = :t WHERE team_id = 'T0COPYDST'"),
                     {"t": src})
    with pytest.raises(DecryptError):
        bot.runtime.store.find_installation(None, "T0COPYDST")


def test_org_wide_install_serves_every_workspace_of_the_org(oauth_bot: RunningBot) -> None:
    bot = oauth_bot
    install(bot, "T0GRIDONE", enterprise_id="E0GRID001", org_wide=True)
    store_key(bot, "T0GRIDONE", "U0GRID", enterprise="E0GRID001")
    bot.standin.reset()
    sweep(bot)
    (dm,) = dms_to(bot, "U0GRID")
    assert dm.team_id == "T0GRIDONE"
    # Requests from the org's workspaces are authorized with the org's token.
    person = bot.slack.in_team("T0GRIDONE", "E0GRID001").as_user("U0GRID")
    sent = person.command("list")
    assert sent.status == 200
    bot.standin.reply_to(sent)


def test_the_install_asks_for_the_manifests_scopes_and_redirect_path() -> None:
    import json
    from pathlib import Path

    from bot.slack.oauth import BOT_SCOPES, REDIRECT_PATH

    manifest = json.loads((Path(__file__).resolve().parents[1] / "manifest.json").read_text())
    assert set(BOT_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])
    assert all(u.endswith(REDIRECT_PATH) for u in manifest["oauth_config"]["redirect_urls"])
