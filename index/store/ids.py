"""Chunk id -> row lookups over an array of ids, without a per-id Python dict."""

from __future__ import annotations

import numpy as np


class RowLookup:
    """Rows of `ids` (row i holds chunk `ids[i]`) by chunk id, via a sorted copy.

    A dict of a million ids costs ~100 MB and a second to build; this costs 16 bytes an id.
    """

    def __init__(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        ascending = len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1]))
        self._order = None if ascending else np.argsort(ids, kind="stable")
        self._sorted = ids if ascending else ids[self._order]

    def find(self, chunk_ids: np.ndarray | list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, found): `found[j]` says whether `chunk_ids[j]` is present; `rows[found]` are
        the rows of those that are, in the order given."""
        wanted = np.asarray(chunk_ids, dtype=np.int64)
        if len(self._sorted) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(len(wanted), dtype=bool)
        pos = np.searchsorted(self._sorted, wanted).clip(0, len(self._sorted) - 1)
        found = self._sorted[pos] == wanted
        rows = pos if self._order is None else self._order[pos]
        return rows[found], found
