"""Values kept for everybody: a bounded store, least recently used out, computed once per key.

A class looks at the same pictures and charts (the same sample through the same network), so
what one learner's run computed, the next one's finds: a lookup instead of a drawing, an encoding
or a forward pass. Bounded by a number of entries and/or by their total size, so a long day's RSS
stays within a worker's budget. Safe for every learner's thread at once: two learners asking for
the same key compute it once (the second waits for the first), different keys are computed at
the same time, and a computation that fails leaves nothing behind (the next one tries again).
Whatever is kept is shared, so nobody may modify it.

Its users: the shared PNG pictures and heatmaps (``cnnviz.figures``), the layer outputs and the
per-class memos of a shared network (``cnnviz.ui.memo``), the top images and their panels
(``cnnviz.ui.inside``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Callable, Hashable


def content_key(meta, data: bytes) -> bytes:
    """A key for ``data`` (bytes) read as ``meta`` (shape, mode, options...): the same bytes with
    another shape are another picture."""
    digest = hashlib.blake2b(repr(meta).encode(), digest_size=20)
    digest.update(data)
    return digest.digest()


class Kept:
    """At most ``max_items`` entries and ``max_bytes`` of them (``size(value)``, measured once when
    kept), the least recently used out first; the newest stays even alone over the budget (its
    learner is using it). ``None``: no bound of that kind. ``entries`` (key -> value, oldest first)
    and ``total`` (bytes, with ``max_bytes``) may be read; the bounds may be changed."""

    def __init__(self, *, max_items: int | None = None, max_bytes: int | None = None,
                 size: Callable[[object], int] = len):
        self.max_items, self.max_bytes, self._size = max_items, max_bytes, size
        self.entries: OrderedDict[Hashable, object] = OrderedDict()
        self.total = 0
        self._sizes: dict[Hashable, int] = {}
        self._lock = threading.Lock()         # guards entries, sizes, total and _making
        self._making: dict[Hashable, list] = {}   # key -> [its compute lock, threads using it]

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, key) -> bool:
        return key in self.entries

    def get(self, key, default=None):
        """The value kept for ``key`` (now the most recently used), else ``default``."""
        with self._lock:
            if key not in self.entries:
                return default
            self.entries.move_to_end(key)
            return self.entries[key]

    def _over(self) -> bool:
        return (self.max_items is not None and len(self.entries) > self.max_items) or \
            (self.max_bytes is not None and self.total > self.max_bytes)

    def _keep(self, key, value, size: int) -> None:
        """Under the lock: keep ``value``, then drop the oldest while over a bound."""
        self.total -= self._sizes.pop(key, 0)
        self.entries[key] = value
        self.entries.move_to_end(key)
        self._sizes[key] = size
        self.total += size
        while self._over() and len(self.entries) > 1:
            old, _ = self.entries.popitem(last=False)
            self.total -= self._sizes.pop(old)

    def get_or_make(self, key, make: Callable[[], object]):
        """The value kept for ``key``, or ``make()``'s, kept from now on. One thread makes a given
        key at a time: the others asking for it wait and get its value; other keys don't wait.
        If ``make`` raises, nothing is kept and the exception goes to its caller; a thread that
        was waiting for that key then makes it itself."""
        with self._lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
            slot = self._making.setdefault(key, [threading.Lock(), 0])
            slot[1] += 1
        try:
            with slot[0]:
                with self._lock:                 # made while this thread waited for the key
                    if key in self.entries:
                        self.entries.move_to_end(key)
                        return self.entries[key]
                value = make()
                size = self._size(value) if self.max_bytes is not None else 0
                with self._lock:
                    self._keep(key, value, size)
                return value
        finally:
            with self._lock:
                slot[1] -= 1
                if slot[1] == 0:
                    del self._making[key]
