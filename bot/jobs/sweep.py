"""The reminder sweep: claim what is due, send it, mark it sent.

The database holds the truth. Claims are atomic and leased (bot.store), so any number of
processes can sweep and each reminder goes out once; a reminder whose send failed is released
for the next sweep, and one whose process died comes back when its lease ends. Sends to
different people run concurrently; each person's DMs are paced by the Messenger.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.clock import aware, utcnow
from bot.services.credentials import Checked, CredentialService, NotRenewable
from bot.slack.messenger import Deferred, Messenger, SlackDown, Undeliverable
from bot.store.parts import Part
from bot.store.schedule import END, END_DUE
from bot.workers import Workers

if TYPE_CHECKING:
    from bot.store import CredentialInfo, DueReminder, Store

log = logging.getLogger(__name__)

LEASE_SECONDS = 300
CLAIM_BATCH = 500
CONCURRENCY = 100
# Batches in flight at once after the first.
PIPELINE = 4
# Sent reminders are marked in groups of this many (one transaction each).
SETTLE_EVERY = 100
# At most this many reminders are sent and not yet marked at any moment (a new send waits for
# room): all a `kill -9` can make the next sweep repeat.
UNSETTLED_MAX = 3 * SETTLE_EVERY
# Outcomes after which a reminder is finished, and those that hand it back for a later sweep.
FINISHED = ("dropped", "renewed")
BACK = ("deferred", "down", "late")

# (credential, stage, now, note) → chat.postMessage arguments.
Render = Callable[["CredentialInfo", str, datetime, "str | None"], dict[str, Any]]
# Sends a credential's message to whoever must get it (bot.jobs.relay: the owner, or the
# workspace admins when the owner is gone).
Deliver = Callable[["CredentialInfo", dict[str, Any]], Awaitable[None]]
End = Callable[["CredentialInfo"], Awaitable[None]]
# Marks finished reminders sent and releases the handed-back ones: (finished, handed back).
Write = Callable[[list[int], list[int]], Awaitable[None]]
# Whose turn it is to write to the database (a lock on SQLite, nothing on PostgreSQL).
Turns = AbstractAsyncContextManager[Any]


@dataclass(frozen=True)
class Sent:
    """One DM that went out: what `getkey remind --once` prints."""

    platform: str
    store: str
    masked: str
    stage: str
    owner: str

    def line(self) -> str:
        return f"{self.platform}\t{self.store}\t{self.masked}\t{self.stage}\t{self.owner}"

    @classmethod
    def of(cls, info: CredentialInfo, stage: str) -> Sent:
        return cls(
            platform=info.platform,
            store=info.store_name or info.identity,
            masked=info.masked,
            stage=stage,
            owner=info.user_id,
        )


class _Ledger:
    """What a sweep has finished and handed back, written as it goes. A finished reminder is
    marked in a group of `every` soon after going out, and no send starts while `most` are
    sent and unmarked, so a crash half-way re-sends at most those few (and loses nothing: the
    rest come back when their lease ends). Handed-back reminders are released only when the
    sweep ends, so the same sweep never claims them again."""

    def __init__(self, write: Write, every: int, most: int) -> None:
        self.write = write
        self.every = every
        self.most = max(most, every + 1)  # room for a whole group, or nothing is ever marked
        self.done: list[int] = []
        self.back: list[int] = []
        self._writes: set[asyncio.Task[None]] = set()
        # One permit per send started and not yet marked (or handed back).
        self._unsettled = asyncio.Semaphore(self.most)
        # (due_at, id) of the last reminder claimed: the next claim reads on from there.
        self.cursor: tuple[datetime, int] | None = None

    async def room(self) -> None:
        """Wait until one more send may start."""
        await self._unsettled.acquire()

    def record(self, reminder_id: int, outcome: Sent | str, started: bool = True) -> None:
        """What became of a reminder; `started`: it went through `room()`."""
        if isinstance(outcome, Sent) or outcome in FINISHED:
            self.done.append(reminder_id)
            if len(self.done) >= self.every:
                done, self.done = self.done, []
                task = asyncio.get_running_loop().create_task(self._settle(done))
                self._writes.add(task)
                task.add_done_callback(self._writes.discard)
            return
        if outcome in BACK:
            self.back.append(reminder_id)
        if started:
            self._unsettled.release()

    async def _settle(self, done: list[int]) -> None:
        try:
            await self.write(done, [])
        finally:
            # A failed write ends the sweep anyway; the senders waiting must not hang.
            for _ in done:
                self._unsettled.release()

    async def close(self) -> None:
        """Everything finished is marked, then what was handed back is released."""
        if self._writes:
            await asyncio.gather(*self._writes)
        done, self.done = self.done, []
        back, self.back = self.back, []
        await self.write(done, back)


@dataclass
class _Run:
    """One sweep's state, shared by its batches."""

    now: datetime
    ledger: _Ledger
    writing: Turns
    part: Part | None
    sent: list[Sent]
    stop: asyncio.Event


class Sweep:
    def __init__(
        self,
        store: Store,
        messenger: Messenger,
        service: CredentialService,
        workers: Workers,
        render: Render,
        *,
        clock: Callable[[], datetime] = utcnow,
        lease_seconds: int = LEASE_SECONDS,
        batch: int = CLAIM_BATCH,
        concurrency: int = CONCURRENCY,
        deliver: Deliver | None = None,
        end: End | None = None,
    ) -> None:
        self.store = store
        # A key's end date (bot.jobs.handback): revocation steps out, then the key deleted.
        self.end = end
        self.deliver = deliver
        self.messenger = messenger
        self.service = service
        self.workers = workers
        self.render = render
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.concurrency = concurrency

    async def run(self, now: datetime | None = None, *, part: Part | None = None) -> list[Sent]:
        """Claim what is due at `now`, send it, mark it sent. Returns the DMs that went out.
        `part`: only the reminders of that part of the people (a sweep shared by several
        processes, bot.cli.sweepers).

        The first batch goes alone (an outage or a refusal then stops the sweep after one
        batch); after that several batches are in flight, so a person whose DMs must be spaced
        out holds up only their own messages, never the next batch."""
        # On SQLite the sweep's own writes take turns (one writer, and its busy wait polls):
        # claims and settlements never queue on the database lock behind each other.
        # PostgreSQL takes them side by side (claims skip each other's rows).
        writing: Turns = (
            asyncio.Lock() if self.store.engine.dialect.name == "sqlite" else nullcontext()
        )
        # Processes sharing a sweep each take their share of the sends not yet marked:
        # killed together, they repeat no more than one would.
        share = part[1] if part else 1
        run = _Run(
            now=aware(now or self.clock()),
            # Groups as large as the share of unmarked sends allows (half of it: the next
            # group fills while one is being written).
            ledger=_Ledger(
                self._writer(writing),
                max(1, min(SETTLE_EVERY, UNSETTLED_MAX // share // 2)),
                UNSETTLED_MAX // share,
            ),
            writing=writing,
            part=part,
            sent=[],
            stop=asyncio.Event(),
        )
        try:
            if await self._one_batch(run):
                await asyncio.gather(*(self._batches(run) for _ in range(PIPELINE)))
        finally:
            await run.ledger.close()
        return run.sent

    def _writer(self, writing: Turns) -> Write:
        async def write(done: list[int], back: list[int]) -> None:
            async with writing:
                await self.workers.quick(self._settle, done, back)

        return write

    async def _batches(self, run: _Run) -> None:
        while not run.stop.is_set() and await self._one_batch(run):
            pass

    async def _one_batch(self, run: _Run) -> bool:
        """One claim → send (settled as it goes, bot.jobs.sweep._Ledger); False when the sweep
        should end."""
        ledger = run.ledger
        async with run.writing:
            due = await self.workers.quick(
                self.store.claim_due, run.now, limit=self.batch,
                lease_seconds=self.lease_seconds, after=ledger.cursor, part=run.part,
            )
        if not due:
            run.stop.set()
            return False
        last = max((d.due_at, d.reminder_id) for d in due)
        ledger.cursor = last if ledger.cursor is None else max(ledger.cursor, last)
        outcomes = await self._deliver_all(due, run, time.monotonic())
        run.sent.extend(o for _, o in outcomes if isinstance(o, Sent))
        # A full batch means there may be more; what was handed back waits for the next
        # sweep, or the sweep would claim it again at once.
        if any(o in BACK for _, o in outcomes) or len(due) < self.batch:
            run.stop.set()
            return False
        return True

    def _settle(self, done: list[int], back: list[int]) -> None:
        self.store.mark_sent_many(done)
        self.store.release_many(back)

    async def _deliver_all(
        self, due: list[DueReminder], run: _Run, claimed: float
    ) -> list[tuple[DueReminder, Any]]:
        # One queue per person: their DMs go in order (paced); people run side by side.
        queues: OrderedDict[str, list[DueReminder]] = OrderedDict()
        for item in due:
            queues.setdefault(f"{item.credential.team_id}:{item.credential.user_id}", []).append(
                item
            )
        results: list[tuple[DueReminder, Any]] = []
        down = asyncio.Event()
        gate = asyncio.Semaphore(self.concurrency)

        async def person(items: list[DueReminder]) -> None:
            async with gate:
                for item in items:
                    # Past half the lease another process may take the claim over, and after
                    # an outage nothing more is tried: hand back what is left.
                    started = False
                    if down.is_set():
                        outcome: Sent | str = "down"
                    elif time.monotonic() - claimed > self.lease_seconds / 2:
                        outcome = "late"
                    else:
                        await run.ledger.room()
                        started = True
                        outcome = await self._deliver(item, run.now)
                    metrics.reminder(outcome)
                    if outcome == "down":
                        down.set()
                    run.ledger.record(item.reminder_id, outcome, started)
                    results.append((item, outcome))

        people = list(queues.values())
        # One DM alone first: if Slack is down, that one failure ends the sweep instead of a
        # burst of concurrent ones hammering it.
        first, rest = people[0][:1], people[0][1:]
        await person(first)
        if rest:
            people[0] = rest
        else:
            people.pop(0)
        await asyncio.gather(*(person(items) for items in people))
        return results

    async def _deliver(self, item: DueReminder, now: datetime) -> Sent | str:
        info = item.credential
        stage = item.stage
        note: str | None = None
        try:
            if item.kind == "expiry" and self.service.renewable(info):
                renewed = await self.workers.slow(info.platform, self.service.renew, info)
                if isinstance(renewed, Checked):
                    # Renewed, or failed (the store owes the owner that message, sent by the
                    # outbox), or refused for the operator's own settings (the daily check
                    # retries): either way this reminder is finished.
                    return "deferred" if renewed.inconclusive else "renewed"
                assert isinstance(renewed, NotRenewable)
                note = renewed.reason
            if item.kind == END and stage == END_DUE and self.end is not None:
                await self.end(info)
                return Sent.of(info, stage)
            message = self.render(info, stage, now, note)
            if self.deliver is not None:
                await self.deliver(info, message)
            else:
                await self.messenger.send(info.team_id, info.user_id, message)
        except SlackDown as exc:
            log.warning("slack unavailable; reminders left due", extra={"error": str(exc)})
            return "down"
        except Deferred as exc:
            log.warning(
                "reminder not sent; it stays due",
                extra={"reminder": item.reminder_id, "error": str(exc)},
            )
            return "deferred"
        except Undeliverable as exc:
            log.warning(
                "reminder dropped: the owner cannot receive DMs",
                extra={"reminder": item.reminder_id, "error": str(exc)},
            )
            return "dropped"
        except Exception as exc:
            # One bad row must not stop the sweep; its claim goes back for the next one.
            log.error(
                "reminder failed", extra={"reminder": item.reminder_id, "error": type(exc).__name__}
            )
            return "deferred"
        log.info(
            "reminder sent",
            extra={"reminder": item.reminder_id, "stage": stage, "platform": info.platform},
        )
        return Sent.of(info, stage)
