"""Renderings kept for everybody: a bounded store keyed by content, least recently used out.

A class looks at the same pictures and charts (the same sample through the same network), so
what one learner's run drew, the next one's finds: a hash of the content instead of a drawing
or an encoding. Bounded by a number of entries or by their total size, so a long day's RSS stays
within a worker's budget. Safe for every learner's thread at once; whatever is kept is shared,
so nobody may modify it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Callable


def content_key(meta, data: bytes) -> bytes:
    """A key for ``data`` (bytes) read as ``meta`` (shape, mode, options...): the same bytes with
    another shape are another picture."""
    digest = hashlib.blake2b(repr(meta).encode(), digest_size=20)
    digest.update(data)
    return digest.digest()


class Kept:
    """At most ``max_items`` entries and ``max_bytes`` of them (``size(value)``), the oldest used out."""

    def __init__(self, *, max_items: int | None = None, max_bytes: int | None = None,
                 size: Callable[[object], int] = len):
        self.max_items, self.max_bytes, self._size = max_items, max_bytes, size
        self.entries: OrderedDict[bytes, object] = OrderedDict()
        self.total = 0                       # bytes, with max_bytes
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.entries)

    def _over(self) -> bool:
        return (self.max_items is not None and len(self.entries) > self.max_items) or \
            (self.max_bytes is not None and self.total > self.max_bytes)

    def get_or_make(self, key: bytes, make: Callable[[], object]):
        """The entry kept for ``key``, or ``make()``'s value, kept from now on (made outside the
        lock: two learners may make the same one at once, the first kept wins)."""
        with self._lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        value = make()
        with self._lock:
            if key in self.entries:
                return self.entries[key]
            self.entries[key] = value
            self.total += self._size(value) if self.max_bytes is not None else 0
            while self._over() and len(self.entries) > 1:
                _, old = self.entries.popitem(last=False)
                self.total -= self._size(old) if self.max_bytes is not None else 0
        return value
