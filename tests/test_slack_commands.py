"""/getkey through the real app over HTTP: signed requests in, what the person sees out."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from bot.slack.ui import ids
from flows import catalog
from tests.slack_standin import check_everything_sent, check_message, find_element
from tests.slack_standin import visible_text as texts

pytest_plugins = ("tests.bot_fixtures",)




def answer(reply) -> dict:
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["response_type"] == "ephemeral"  # only the person who asked sees it
    return check_message(body)


def nothing_posted_to_channel(standin) -> None:
    assert standin.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("text", ["", "help", "  HELP "])
def test_help_explains_and_offers_every_platform(bot, text):
    body = answer(bot.slack.command(text))
    shown = texts(body["blocks"])
    assert "checked live" in shown and "stored encrypted" in shown
    _, select = find_element(body["blocks"], ids.PICK_PLATFORM)
    assert {o["value"] for o in select["options"]} == set(catalog.ids())
    nothing_posted_to_channel(bot.standin)


def test_choosing_a_platform_in_the_picker_shows_its_guide(bot):
    body = answer(bot.slack.command("help"))
    reply = bot.slack.click(body["blocks"], ids.PICK_PLATFORM, option_value="wix")
    assert reply.status == 200
    call = bot.standin.reply_to(reply)
    assert call.args["replace_original"] is True
    assert call.args["response_type"] == "ephemeral"
    assert call.args["blocks"][0]["text"]["text"] == "Wix: get an API key"
    find_element(call.blocks, ids.OPEN_FORM)
    check_everything_sent(bot.standin)


@pytest.mark.parametrize(
    ("typed", "flow_id"),
    [
        ("wix", "wix"),
        ("Wix", "wix"),
        ("  WIX  ", "wix"),
        ("Lightspeed X", "lightspeed-x"),
        ("lightspeed   x", "lightspeed-x"),
        ("vend", "lightspeed-x"),
        ("VEND", "lightspeed-x"),
        ("bc", "bigcommerce"),
    ],
)
def test_platform_or_alias_shows_the_guide(bot, typed, flow_id):
    flow = catalog.get(flow_id)
    body = answer(bot.slack.command(typed))
    shown = texts(body["blocks"])
    assert body["blocks"][0]["text"]["text"] == f"{flow.name}: get an API key"
    for step in flow.steps:
        assert step.title in shown
    for field in flow.fields:
        assert field.label in shown
    if flow.troubleshooting:
        assert flow.troubleshooting[0].symptom in shown
    _, button = find_element(body["blocks"], ids.OPEN_FORM)
    assert button["value"] == flow.id
    nothing_posted_to_channel(bot.standin)


def test_every_platform_guide_fits_slack(bot):
    for flow in catalog.all_flows():
        answer(bot.slack.command(flow.id))


def test_misspelt_name_suggests_and_the_suggestion_opens_the_guide(bot):
    body = answer(bot.slack.command("wxi"))
    assert "Did you mean" in texts(body["blocks"]) and "Wix" in texts(body["blocks"])
    assert "Traceback" not in json.dumps(body)
    _, button = find_element(body["blocks"], ids.guide_action("wix"))
    assert button["value"] == "wix"
    sent = bot.slack.click(body["blocks"], ids.guide_action("wix"))
    call = bot.standin.reply_to(sent)
    assert call.args["blocks"][0]["text"]["text"] == "Wix: get an API key"
    check_everything_sent(bot.standin)


def test_name_close_to_nothing_offers_the_picker(bot):
    body = answer(bot.slack.command("zzqqxx"))
    assert "zzqqxx" in texts(body["blocks"])
    find_element(body["blocks"], ids.PICK_PLATFORM)


def test_typed_text_cannot_inject_mentions(bot):
    body = answer(bot.slack.command("<!channel> hello"))
    assert "<!channel>" not in json.dumps(body)


def test_forged_signature_is_rejected(bot):
    reply = bot.slack.command("wix", signature="v0=" + "0" * 64)
    assert reply.status == 401
    other = bot.slack.post_form(bot.slack.command_fields("wix"), signature="v0=deadbeef")
    assert other.status == 401


def test_stale_timestamp_is_rejected(bot):
    # Correctly signed, but 10 minutes old: a replay.
    reply = bot.slack.command("wix", timestamp=int(time.time()) - 600)
    assert reply.status == 401


def test_body_changed_after_signing_is_rejected(bot):
    fields = bot.slack.command_fields("wix")
    ts = str(int(time.time()))
    from urllib.parse import urlencode

    sig = bot.slack.verifier.generate_signature(timestamp=ts, body=urlencode(fields))
    fields["text"] = "list"
    reply = bot.slack.post_form(fields, timestamp=int(ts), signature=sig)
    assert reply.status == 401


def test_slash_command_is_acknowledged_with_the_answer(bot):
    # The ack is the HTTP response itself; a generous client timeout only guards a hang.
    reply = bot.slack.command("wix", timeout=3.0)
    assert reply.status == 200 and reply.json()["blocks"]


def test_healthz_and_routes(bot):
    assert httpx.get(bot.url + "/healthz").status_code == 200
    assert httpx.get(bot.url + "/healthz").json() == {
        "ok": True, "database": True, "writable": True, "keyring": True
    }
    assert httpx.get(bot.url + "/slack/events").status_code == 405
    assert httpx.get(bot.url + "/nope").status_code == 404


def test_healthz_fails_when_the_database_is_unusable(bot, tmp_path):
    from bot.store.crypto import Keyring, generate_key
    from bot.store.db import make_engine
    from bot.store.repository import Store

    working = bot.runtime.store
    # A real store whose database cannot be opened (its directory does not exist).
    engine = make_engine(f"sqlite:///{tmp_path}/missing/dir/getkey.db")
    bot.runtime.store = Store(engine, Keyring.from_env(generate_key()))
    try:
        assert httpx.get(bot.url + "/healthz").status_code == 503
    finally:
        bot.runtime.store = working
        engine.dispose()
    # Healthy again. /healthz allows itself 1 s, which a loaded test machine can exceed once:
    # a few tries, each a real answer.
    codes = []
    for _ in range(5):
        codes.append(httpx.get(bot.url + "/healthz").status_code)
        if codes[-1] == 200:
            break
        time.sleep(0.5)
    assert codes[-1] == 200, codes


def test_one_structured_line_per_request_without_values(bot, caplog):
    caplog.set_level(logging.INFO, logger="bot.http")
    began = time.time()
    bot.slack.command("my-secret-platform-name")

    def ours() -> list[logging.LogRecord]:
        # Only lines of requests that began after ours was sent: an earlier test's request
        # may log its line late (it is written once the response has gone out).
        return [r for r in caplog.records if r.name == "bot.http"
                and r.created - getattr(r, "ms", 0) / 1000 >= began]

    for _ in range(500):
        if ours():
            break
        time.sleep(0.02)
    time.sleep(0.1)
    lines = ours()
    assert len(lines) == 1
    record = lines[0]
    assert record.kind == "command" and record.route == "/slack/events"
    assert record.status == 200 and record.method == "POST"
    assert "my-secret-platform-name" not in caplog.text


def test_lightspeed_alone_offers_every_edition_and_how_to_recognise_it(bot):
    # Issue 18, item 9: all five editions, each with its name and how to tell it apart,
    # the E-Series leading to the Ecwid guide; the words come from the flows.
    body = answer(bot.slack.command("lightspeed"))
    shown = texts(body["blocks"])
    _, editions = catalog.family("lightspeed")
    assert len(editions) == 5
    for flow in editions:
        assert flow.edition in shown and flow.recognise.split(":")[0] in shown
        _, button = find_element(body["blocks"], ids.guide_action(flow.id))
        assert button["value"] == flow.id
    assert "E-Series" in shown and "my.ecwid.com" in shown
    sent = bot.slack.click(body["blocks"], ids.guide_action("ecwid"))
    call = bot.standin.reply_to(sent)
    assert call.args["blocks"][0]["text"]["text"].startswith("Ecwid")
    check_everything_sent(bot.standin)
