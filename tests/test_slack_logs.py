"""Redaction: no token reaches any handler, from any logger, at any level."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import secrets
import string
import time
from urllib.parse import urlencode

import pytest

from bot.logs import (
    REDACTED,
    JsonFormatter,
    RedactingFilter,
    install_redaction,
    outline,
    pin_levels,
    redact,
)
from tests.platforms import wix
from tests.slack_standin import APP_ID, TEAM_ID, SlackStandIn
from tests.socket_standin import SocketStandIn

WAIT = 20.0

TOKENS = [
    "xoxb-12345678901-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef",
    "xoxp-12345678901-1234567890123-abcdefabcdef",
    wix.KEY,
    "secret_EZWiLeBXWsGg82XH3SfSFfdw418QNBBM",
    "lsh_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "lsxs_pt_Q2hhbmdlTWVQbGVhc2UxMjM0NTY3",
    "shpat_0123456789abcdef0123456789abcdef",
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
    "k3j4h5g6f7d8s9a0q1w2e3r4t5y6u7i8",  # a BigCommerce-style random token
]


@pytest.mark.parametrize("token", TOKENS, ids=lambda t: t[:8])
def test_known_token_shapes_are_masked(token):
    for text in (token, f"Authorization: Bearer {token}", f'{{"token": "{token}"}}',
                 f"call failed for {token}, retrying"):
        out = redact(text)
        assert token not in out and token[-12:] not in out, out


def test_ordinary_text_is_left_readable():
    for text in (
        "slack request kind=command target=/getkey status=200",
        "account 6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f verified",
        "POST http://127.0.0.1:54321/api/chat.postMessage",
        "token verification failed",
    ):
        assert redact(text) == text


def test_child_loggers_and_debug_are_covered(caplog):
    install_redaction()
    caplog.set_level(logging.DEBUG)
    # A child of slack_sdk forced to DEBUG: a filter on "slack_sdk" alone would not see it.
    child = logging.getLogger("slack_sdk.web.base_client")
    old = child.level
    child.setLevel(logging.DEBUG)
    try:
        child.debug("Sending a request - url: x, headers: {'Authorization': '(redacted)'}, "
                    "body: {'token': %s}", TOKENS[0])
        logging.getLogger("httpx").warning("HTTP Request: Bearer %s", TOKENS[3])
        try:
            raise ValueError(f"boom with {TOKENS[4]}")
        except ValueError:
            logging.getLogger("bot.anything").exception("failed")
    finally:
        child.setLevel(old)
    assert caplog.records
    everything = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for token in TOKENS[:5]:
        assert token not in everything
    assert "boom with" in caplog.text  # the exception is still useful


def test_slack_loggers_never_go_below_info():
    install_redaction()
    for name in ("slack_sdk", "slack_bolt"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.INFO


def test_json_lines_with_extras_redacted():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("bot.test_json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.info("slack request", extra={"kind": "command", "note": f"with {TOKENS[0]}"})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    (line,) = stream.getvalue().splitlines()
    data = json.loads(line)
    assert data["msg"] == "slack request" and data["kind"] == "command"
    assert data["level"] == "INFO" and data["logger"] == "bot.test_json"
    assert TOKENS[0] not in line


# -- payloads never reach a log, in either mode -----------------------------------------------

# A Lightspeed eCom secret (32 hex), a short random one (no known shape, under the entropy
# net's 20 characters) and a passphrase (letters only): pattern redaction misses the last two.
ECOM_SECRET = secrets.token_hex(16)
SHORT_SECRET = "Zt4p" + secrets.token_hex(6)
PASSPHRASE = "purple" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(14))
VALUES = (ECOM_SECRET, SHORT_SECRET, PASSPHRASE)


def submission(form_id: str = "edge_form") -> dict:
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "getkey-test"},
        "user": {"id": "U0PERSON1", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": "1337.42.abcdef",
        "view": {
            "id": "V0LOGS1", "type": "modal", "callback_id": form_id, "team_id": TEAM_ID,
            "private_metadata": json.dumps({"flow": "lightspeed_ecom", "shop": PASSPHRASE}),
            "blocks": [],
            "state": {"values": {
                "field.api_key": {"value": {"type": "plain_text_input", "value": ECOM_SECRET}},
                "field.api_secret": {"value": {"type": "plain_text_input",
                                               "value": SHORT_SECRET}},
                "field.shop": {"value": {"type": "plain_text_input", "value": PASSPHRASE}},
            }},
        },
        "response_urls": [],
    }


def everything_logged(caplog) -> str:
    return caplog.text + "".join(
        f"{r.getMessage()} {r.__dict__!r} {r.exc_text or ''}" for r in caplog.records
    )


def assert_no_values(text: str) -> None:
    for value in VALUES:
        assert value not in text and value[:10] not in text, f"{value[:4]}… was logged"


@pytest.fixture
def debug_everywhere(caplog):
    """LOG_LEVEL=DEBUG set before the Bolt app is built (Bolt copies the root level onto its
    own loggers), and caplog capturing everything."""
    install_redaction()
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        root.setLevel(old)
        pin_levels()


def test_bolt_never_logs_a_badly_signed_body(debug_everywhere):
    """Bolt's own verification (today's HTTP path) logs the whole body of a request whose
    signature fails: a late submission, correctly signed, must not put its values in a log."""
    from slack_bolt import App, BoltRequest
    from slack_sdk.signature import SignatureVerifier

    secret = "logssigningsecret0123456789abcdef"
    app = App(signing_secret=secret, token="xoxb-0000-standin-token",
              token_verification_enabled=False)
    body = urlencode({"payload": json.dumps(submission())})
    late = str(int(time.time()) - 400)
    sig = SignatureVerifier(secret).generate_signature(timestamp=late, body=body)
    response = app.dispatch(BoltRequest(body=body, headers={
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": late, "x-slack-signature": sig}))
    assert response.status == 401
    logged = everything_logged(debug_everywhere)
    assert "Invalid request signature" in logged  # the line is kept, its body is not
    assert_no_values(logged)


@pytest.mark.parametrize("client", ["builtin", "aiohttp"])
def test_socket_mode_at_debug_logs_no_payload(debug_everywhere, client):
    """A modal submission over a real WebSocket with every logger at DEBUG: the Socket Mode
    client's DEBUG lines are whole payloads; none may reach a handler."""
    app_token = "xapp-1-A0GETKEY1-4242-logstestapptoken0123456789"
    bot_token = "xoxb-0000-standin-token"
    seen: list[str] = []
    with SlackStandIn(bot_token=bot_token, app_token=app_token) as standin, \
            SocketStandIn(app_id=APP_ID) as ws:
        standin.socket_url = ws.url
        if client == "builtin":
            run_builtin_socket_mode(standin, ws, app_token, bot_token, seen)
        else:
            asyncio.run(run_aiohttp_socket_mode(standin, ws, app_token, bot_token, seen))
    assert seen == [ECOM_SECRET]  # the listener did get the value
    logged = everything_logged(debug_everywhere)
    assert "A new session" in logged  # Socket Mode did log, at INFO, without payloads
    assert_no_values(logged)


def run_builtin_socket_mode(standin, ws, app_token, bot_token, seen) -> None:
    from slack_bolt import App
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk import WebClient

    app = App(client=WebClient(token=bot_token, base_url=standin.api_url))

    @app.view("edge_form")
    def form(ack, view):
        ack()
        seen.append(view["state"]["values"]["field.api_key"]["value"]["value"])

    handler = SocketModeHandler(app, app_token,
                                web_client=WebClient(base_url=standin.api_url))
    handler.connect()
    try:
        ws.wait_for_connection(timeout=WAIT)
        envelope = ws.push("interactive", submission())
        ws.wait_for_ack(envelope, timeout=WAIT)
        deadline = time.monotonic() + WAIT
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        handler.close()


async def run_aiohttp_socket_mode(standin, ws, app_token, bot_token, seen) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(client=AsyncWebClient(token=bot_token, base_url=standin.api_url))

    @app.view("edge_form")
    async def form(ack, view):
        await ack()
        seen.append(view["state"]["values"]["field.api_key"]["value"]["value"])

    handler = AsyncSocketModeHandler(app, app_token,
                                     web_client=AsyncWebClient(base_url=standin.api_url))
    await handler.connect_async()
    try:
        await asyncio.to_thread(ws.wait_for_connection, timeout=WAIT)
        envelope = ws.push("interactive", submission())
        await asyncio.to_thread(ws.wait_for_ack, envelope, timeout=WAIT)
        deadline = time.monotonic() + WAIT
        while not seen and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    finally:
        await handler.close_async()


def test_a_payload_handed_to_a_logger_is_reduced_to_its_shape(debug_everywhere):
    """Structure, not shape recognition: a whole payload logged by mistake keeps its ids and
    loses every value, including ones no pattern would recognise."""
    payload = submission()
    log = logging.getLogger("bot.some_listener")
    log.info("got %s", payload)
    log.info(payload)
    log.warning("failed", extra={"body": payload})
    logged = everything_logged(debug_everywhere)
    assert_no_values(logged)
    assert "field.api_key" in logged and "edge_form" in logged and "V0LOGS1" in logged
    shape = outline(payload)
    assert shape["view"]["state"] == {"values": {
        "field.api_key": {"value": {"type": "plain_text_input"}},
        "field.api_secret": {"value": {"type": "plain_text_input"}},
        "field.shop": {"value": {"type": "plain_text_input"}},
    }}
    assert shape["token"] == shape["trigger_id"] == shape["view"]["private_metadata"] == REDACTED
    assert shape["type"] == "view_submission" and shape["user"]["id"] == "U0PERSON1"
    assert_no_values(json.dumps(shape))


def test_third_party_records_keep_their_message_but_not_the_payload(debug_everywhere):
    bolt = logging.getLogger("slack_bolt.App")
    bolt.warning("Unhandled request ({'type': 'block_actions', 'value': '" + PASSPHRASE + "'})")
    bolt.info(f"Request body: payload={SHORT_SECRET}")
    logged = everything_logged(debug_everywhere)
    assert "Unhandled request" in logged and "Request body:" in logged
    assert_no_values(logged)


def test_huge_messages_cost_little_and_write_little():
    """Four 10 MB bodies used to stall the process and write 40 MB of log."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    install_redaction()
    bolt = logging.getLogger("slack_bolt.AsyncRequestVerification")
    ours = logging.getLogger("bot.test_huge")
    for logger in (bolt, ours):
        logger.addHandler(handler)
    try:
        body = "payload=" + "%7B%22a%22%3A%22" + "x" * 10_000_000
        bolt.info(f"Invalid request signature detected (signature: v0=00, body: {body})")
        ours.error("weird: " + body)
    finally:
        for logger in (bolt, ours):
            logger.removeHandler(handler)
    written = stream.getvalue()
    print(f"two 10 MB messages wrote {len(written)} bytes of log")
    assert len(written.splitlines()) == 2 and len(written) < 10_000
