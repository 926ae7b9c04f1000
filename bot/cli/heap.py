"""How the serving process's cyclic garbage collector runs, once everything is loaded.

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


def settle() -> None:
    gc.collect()  # freeze live objects only, not garbage still waiting for a collection
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
