"""A byte-bounded least-recently-used store: what keeps an indicator cache's memory flat.

A search over thousands of random genomes asks for thousands of distinct indicators (and lagged copies);
kept forever at full length in float64, 2,000 genomes on five years of 1h bars reached 9 GB. Every entry
of the cache can be computed again from the candles and gives the same bits, so evicting the least
recently used ones changes no result, only time. ``limit`` counts the bytes of the numpy arrays held
(an array held under two keys counts twice: the bound is conservative); the newest entry always stays,
whatever its size. ``functools.lru_cache`` bounds entries, not bytes, and cannot be shared by two views;
hence this small class.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator, MutableMapping
from typing import Any


def size_of(value: Any) -> int:
    """The bytes an entry holds: a numpy array's buffer, the arrays of a dict of arrays, else 0."""
    if isinstance(value, dict):
        return sum(size_of(item) for item in value.values())
    return int(getattr(value, "nbytes", 0))


class BoundedLRU:
    """Entries by key, least recently used evicted first once their bytes pass ``limit`` (None: never)."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.used = 0
        self.evictions = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, value: Any) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.used -= old[1]
        size = size_of(value)
        self._entries[key] = (value, size)
        self.used += size
        if self.limit is None:
            return
        while self.used > self.limit and len(self._entries) > 1:
            _, (_, freed) = self._entries.popitem(last=False)
            self.used -= freed
            self.evictions += 1

    def __len__(self) -> int:
        return len(self._entries)

    def items(self, prefix: str) -> Iterator[tuple[Hashable, Any]]:
        for key, (value, _) in list(self._entries.items()):
            if isinstance(key, tuple) and key and key[0] == prefix:
                yield key[1], value


class View(MutableMapping[Hashable, Any]):
    """One namespace of a :class:`BoundedLRU`, used as a dictionary (``get``, ``[]``, ``in``)."""

    def __init__(self, store: BoundedLRU, prefix: str) -> None:
        self._store, self._prefix = store, prefix

    def __getitem__(self, key: Hashable) -> Any:
        value = self._store.get((self._prefix, key))
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: Hashable, value: Any) -> None:
        self._store.put((self._prefix, key), value)

    def __delitem__(self, key: Hashable) -> None:
        found = self._store._entries.pop((self._prefix, key), None)
        if found is None:
            raise KeyError(key)
        self._store.used -= found[1]

    def __iter__(self) -> Iterator[Hashable]:
        return (key for key, _ in self._store.items(self._prefix))

    def __len__(self) -> int:
        return sum(1 for _ in self._store.items(self._prefix))
