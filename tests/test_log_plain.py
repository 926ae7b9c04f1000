"""bot.logs.log_plain, the HTTP edge's line per request: the same JSON line as logger.info would
write, and nothing it cannot vouch for skips the redaction (an extra that is not a number or a
short value of a known-safe key takes the usual, redacting way)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
import time
from datetime import UTC, datetime

import pytest

from bot.logs import (
    REDACTED,
    JsonFormatter,
    RedactingFilter,
    install_redaction,
    iso_ms,
    log_plain,
    plain_json_line,
)
from bot.logsetup import LineHandler
from tests.platforms import wix


def lines_of(write: object) -> list[dict[str, object]]:
    install_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.log_plain")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        write(logger)  # type: ignore[operator]
    finally:
        logger.removeHandler(handler)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_line_is_the_one_logger_info_writes() -> None:
    extra = {"method": "POST", "route": "/slack/events", "status": 200, "ms": 1.5,
             "kind": "command"}  # fmt: skip
    plain, usual = lines_of(lambda log: (log_plain(log, "http request", extra),
                                         log.info("http request", extra=extra)))
    assert plain.pop("ts") and usual.pop("ts")
    assert plain == usual == {"level": "INFO", "logger": "tests.log_plain",
                              "msg": "http request", **extra}  # fmt: skip


def test_an_extra_it_cannot_vouch_for_is_still_redacted() -> None:
    (line,) = lines_of(lambda log: log_plain(log, "http request", {"status": 200,
                                                                    "note": f"key {wix.KEY}"}))
    assert wix.KEY not in json.dumps(line) and REDACTED in line["note"]
    (long,) = lines_of(lambda log: log_plain(log, "http request", {"kind": "x" + wix.KEY * 3}))
    assert wix.KEY not in json.dumps(long)


def test_nothing_is_written_below_the_loggers_level() -> None:
    def quiet(log: logging.Logger) -> None:
        log.setLevel(logging.WARNING)
        log_plain(log, "http request", {"status": 200})

    assert lines_of(quiet) == []


# -- the serve process's handler (bot.logsetup.LineHandler) -----------------------------------

def lone_logger(name: str) -> logging.Logger:
    """A logger outside logging's tree: no parent's handlers, and none that pytest adds to the
    loggers it knows (its caplog handlers, which rightly take the usual way)."""
    return logging.Logger(name, logging.INFO)


def handler_lines(write: object, *, text: bool = False,
                  other: logging.Handler | None = None) -> tuple[list[str], LineHandler]:
    """What `write(logger)` puts on a LineHandler's stream, the handler alone on its logger
    (plus `other` when given), as configure_logging sets it up on the root."""
    install_redaction()
    stream = io.StringIO()
    handler = LineHandler(stream, text=text)
    logger = lone_logger("tests.log_plain.line")
    for h in (handler, other):
        if h is not None:
            logger.addHandler(h)
    try:
        write(logger)  # type: ignore[operator]
        handler.flush()
    finally:
        for h in (handler, other):
            logger.removeHandler(h)  # type: ignore[arg-type]
    return stream.getvalue().splitlines(), handler


EXTRA = {"method": "POST", "route": "/slack/events", "status": 200, "ms": 1.5, "kind": "command",
         "retry": 2, "ok": True, "error": None}  # fmt: skip


def test_the_direct_line_is_the_one_a_record_makes() -> None:
    lines, _ = handler_lines(lambda log: (log_plain(log, "http request", EXTRA),
                                          log.info("http request", extra=EXTRA)))
    direct, usual = (json.loads(line) for line in lines)
    assert direct.pop("ts")[:10] == usual.pop("ts")[:10]
    assert direct == usual == {"level": "INFO", "logger": "tests.log_plain.line",
                               "msg": "http request", **EXTRA}  # fmt: skip


def test_the_direct_line_skips_the_record(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    real = logging.LogRecord

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            made.append(args)
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(logging, "LogRecord", Counting)
    lines, _ = handler_lines(lambda log: log_plain(log, "http request", EXTRA))
    assert len(lines) == 1 and made == []
    # A second handler on the way: both get the line, through a record.
    other = io.StringIO()
    lines, _ = handler_lines(lambda log: log_plain(log, "http request", EXTRA),
                             other=logging.StreamHandler(other))
    assert len(lines) == 1 and other.getvalue() == "http request\n" and len(made) == 1


def test_text_lines_match_the_text_formatter() -> None:
    lines, _ = handler_lines(lambda log: (log_plain(log, "http request", EXTRA),
                                          log.info("http request", extra=EXTRA)), text=True)
    direct, usual = (line.split(" ", 1)[1] for line in lines)  # without the time
    assert direct == usual
    assert usual.endswith("http request method=POST route=/slack/events status=200 ms=1.5 "
                          "kind=command retry=2 ok=True error=None")  # fmt: skip


def test_what_it_cannot_vouch_for_is_redacted_on_the_way_in() -> None:
    lines, _ = handler_lines(lambda log: (
        log_plain(log, "http request", {"status": 200, "note": f"key {wix.KEY}"}),
        log_plain(log, f"request with {wix.KEY}", {"status": 200}),
        log.info("stored %s", {"token": wix.KEY, "type": "x"})))
    assert len(lines) == 3 and not any(wix.KEY in line for line in lines)
    assert all(REDACTED in line for line in lines)


def test_loop_lines_wait_for_the_loops_next_turn_and_keep_their_order() -> None:
    async def scenario(log: logging.Logger, stream: io.StringIO, seen: list[list[str]]) -> None:
        log_plain(log, "first", {"status": 200})
        log.info("second")
        seen.append(stream.getvalue().splitlines())  # nothing yet: waiting for the loop
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        seen.append(stream.getvalue().splitlines())
        log.info("third")
        log.warning("fourth")  # at once, after what waits
        seen.append(stream.getvalue().splitlines())

    install_redaction()
    stream = io.StringIO()
    handler = LineHandler(stream, text=False)
    logger = lone_logger("tests.log_plain.loop")
    logger.addHandler(handler)
    seen: list[list[str]] = []
    try:
        asyncio.run(scenario(logger, stream, seen))
        logger.info("fifth")  # no loop running: at once
    finally:
        logger.removeHandler(handler)
    msgs = [[json.loads(line)["msg"] for line in lines] for lines in seen]
    assert msgs == [[], ["first", "second"], ["first", "second", "third", "fourth"]]
    assert [json.loads(line)["msg"] for line in stream.getvalue().splitlines()][-1] == "fifth"


def test_iso_ms_is_isoformat_to_the_millisecond() -> None:
    draw = random.Random(21)
    for created in (0.0, 1_700_000_000.0, 1_700_000_000.0015, 1_764_777_777.0019996,
                    1_764_777_777.9999996, time.time(),
                    *(draw.uniform(1.7e9, 1.8e9) for _ in range(5000))):
        assert iso_ms(created) == datetime.fromtimestamp(created, UTC).isoformat(
            timespec="milliseconds"), created


def test_the_written_out_json_is_the_encoders() -> None:
    draw = random.Random(7)
    odd = ['quote " back \\ slash', "tab\tnew\nline", "ctrl \x01\x1f", "é ü 漢字 😀", "", "/"]
    for _ in range(2000):
        extra: dict[str, object] = {}
        for n in range(draw.randrange(0, 8)):
            extra[draw.choice(["status", "ms", "kind", f"k{n}", 'q"k', "é"])] = draw.choice([
                draw.randrange(-10**12, 10**12), draw.uniform(-1e6, 1e6), draw.random(),
                float("nan"), float("inf"), -float("inf"), 1e300, 5e-324, -0.0, True, False,
                None, draw.choice(odd), "x" * draw.randrange(0, 80)])  # fmt: skip
        created = draw.uniform(1.7e9, 1.8e9)
        name, msg = draw.choice(["bot.http", 'a"b']), draw.choice(["http request", *odd])
        usual = json.JSONEncoder(default=str, ensure_ascii=False).encode(
            {"ts": iso_ms(created), "level": "INFO", "logger": name, "msg": msg, **extra})
        assert plain_json_line(created, name, msg, extra) == usual
