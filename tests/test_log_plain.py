"""bot.logs.log_plain, the HTTP edge's line per request: the same JSON line as logger.info would
write, and nothing it cannot vouch for skips the redaction (an extra that is not a number or a
short value of a known-safe key takes the usual, redacting way)."""

from __future__ import annotations

import io
import json
import logging

from bot.logs import REDACTED, JsonFormatter, RedactingFilter, install_redaction, log_plain
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
