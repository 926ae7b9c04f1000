"""How the serving process's cyclic garbage collector runs, once everything is loaded, and how
many malloc arenas its threads share (limit_arenas, below).

Measured under slash-command load (issue 21): Python's defaults ran a collection every ~20
requests and a full one every few seconds that paused the event loop for up to 120 ms, which
was the slash commands' p99. Two settings, for the serving process only (never the tests'):
- gc.freeze(): what exists once the app has started lives as long as the process (modules,
  the app, its listeners, caches), so collections stop re-scanning it;
- a young-generation threshold of 10,000: a request's objects are freed by reference counting
  when it ends, so only dozens of requests in flight at once ever crossed the default 700.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
# glibc's mallopt parameter for the number of malloc arenas, and the count serve keeps to.
M_ARENA_MAX = -8
ARENAS = 2


def settle() -> None:
    gc.collect()  # freeze live objects only, not garbage still waiting for a collection
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def limit_arenas(*, operator_set: bool) -> None:
    """At most ARENAS glibc malloc arenas, set before the first thread starts. glibc gives
    each thread that allocates its own arena (up to 8 per core), and freed memory stays in
    the arena it came from; Python's own objects are allocated under the GIL, so the extra
    arenas only spread the C heap thinner (measured: 3 MB less after a burst of 200 submissions).
    `operator_set`: MALLOC_ARENA_MAX is set, and glibc has already applied it."""
    if operator_set:
        return
    from bot.workers import _libc

    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, ARENAS)
