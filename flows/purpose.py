"""What a key is for: reading a store (export, audit, sync out) or also writing to it (import,
sync in, an integration). Each flow declares, per purpose, the permissions a key needs, by the
names its verification puts in `VerifyResult.granted`; this module compares the two and words
what is missing. Nothing here knows about Slack.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import replace

from flows.outcomes import Failure, VerifyResult


class Purpose(enum.StrEnum):
    READ = "read"
    WRITE = "write"

    @property
    def label(self) -> str:
        return PURPOSE_LABELS[self]

    @property
    def jobs(self) -> str:
        return PURPOSE_JOBS[self]

    @classmethod
    def parse(cls, text: str | None, default: Purpose | None = None) -> Purpose:
        """A stored or typed purpose; words people use ("import", "rw") count too."""
        word = (text or "").strip().lower().replace("-", " ").replace("_", " ")
        for purpose, names in _WORDS.items():
            if word in names:
                return purpose
        if default is not None:
            return default
        raise ValueError("Say what the key is for: read (export) or write (import).")


PURPOSE_LABELS = {Purpose.READ: "Read", Purpose.WRITE: "Read and write"}
PURPOSE_JOBS = {
    Purpose.READ: "export, audit, sync out",
    Purpose.WRITE: "import, sync in, integration",
}
_WORDS = {
    Purpose.READ: {"read", "r", "read only", "readonly", "export", "audit", "sync out"},
    Purpose.WRITE: {"write", "w", "rw", "read write", "read and write", "readwrite", "import",
                    "sync in", "integration", "modify"},
}


def missing_for(needed: Iterable[str], granted: Iterable[str]) -> tuple[str, ...]:
    have = set(granted)
    return tuple(name for name in needed if name not in have)


def refuse(result: VerifyResult, platform: str, purpose: Purpose, missing: tuple[str, ...],
           fix: str) -> VerifyResult:
    """The working key's result turned into "works, but not for this job", naming each missing
    permission the way the platform's own screens do."""
    detail = (
        f"The key works for reading, but {purpose.label.lower()} ({purpose.jobs}) on "
        f"{platform} also needs: {', '.join(missing)}."
    )
    return replace(
        result, ok=False, failure=Failure.MISSING_PERMISSION,
        detail=f"{detail} {fix}".strip(), missing=tuple(dict.fromkeys((*result.missing,
                                                                           *missing))),
        field=result.field,
    )


def unchecked(result: VerifyResult, note: str) -> VerifyResult:
    """Say plainly that this purpose's permissions could not be checked."""
    return replace(result, warnings=(*result.warnings, note))
