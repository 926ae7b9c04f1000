"""The shared words: every stage getkey writes reads back as itself, a value written by an
older version is still understood, and a kind from a newer one does not break the sender."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.ui.reminders import reminder_text
from bot.store.info import CredentialInfo
from bot.vocabulary import OutboxKind, Stage, StageKind, outbox_kind
from tests.builders import START, credential_info


@pytest.mark.parametrize(
    "text",
    ["expiry-14d", "expiry-0d", "expiry-soon", "rotation-due", "rotation-overdue-3", "failing",
     "renew-failed"],
)
def test_every_stage_reads_back_as_written(text: str) -> None:
    assert str(Stage.parse(text)) == text


def test_a_failed_refresh_and_a_failed_renewal_are_one_thing() -> None:
    assert OutboxKind("refresh-failed") is OutboxKind.RENEW_FAILED
    assert Stage.parse("refresh-failed") == Stage(StageKind.RENEW_FAILED)
    assert outbox_kind("refresh-failed") == "renew-failed"


@pytest.mark.parametrize("text", ["expiry-", "expiry-3", "rotation-overdue-", "Failing", ""])
def test_a_stage_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Stage.parse(text)


def test_a_kind_from_a_newer_version_stays_a_plain_string() -> None:
    assert outbox_kind("link-opened") == "link-opened"
    assert not isinstance(outbox_kind("link-opened"), OutboxKind)


def test_the_reminder_words_follow_the_stage() -> None:
    now = START
    info: CredentialInfo = credential_info(expires_at=now + timedelta(days=3))
    assert reminder_text(info, "expiry-3d", now).endswith("expires soon.")
    assert reminder_text(info, "refresh-failed", now).endswith("could not be refreshed.")
    assert reminder_text(info, Stage.rotation(2), now).endswith("is due for rotation.")
    gone = info.replace(expires_at=now - timedelta(hours=1))
    assert reminder_text(gone, "expiry-0d", now).endswith("has expired.")
