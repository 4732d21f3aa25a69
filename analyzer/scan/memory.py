"""Bulk loading without the cycle collector."""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Loading the scan cache and building the call graph allocate a few
    hundred thousand records that hold no cycles and live as long as the
    run; the collector's passes over them, set off by the allocations alone,
    cost a fifth of a warm run.  What survives is frozen (left out of later
    passes; reference counting still frees it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
