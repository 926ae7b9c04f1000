"""Redaction: no token reaches any handler, from any logger, at any level."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import JsonFormatter, RedactingFilter, install_redaction, redact
from tests.platforms import wix

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
