"""Each kept request's own function and edge numbers (see ``store``), in flat arrays."""
from __future__ import annotations

import numpy as np


class Kept:
    """Each kept request's own function and edge numbers, all in four flat arrays (one
    array per request would cost ~100 bytes of overhead each, and a list of them pointers):
    request *i* has rows ``f_at[i]:f_at[i+1]`` and ``e_at[i]:e_at[i+1]``.  The loader keeps
    every request up to a memory budget (``loading.scan.KEEP_BYTES``), a sample beyond it;
    scopes that cut a bucket, the findings and the comparison read these instead of files."""

    __slots__ = ("rows", "f_ids", "f_val", "e_ids", "e_val", "f_at", "e_at")

    def __init__(self, rows: dict, f_ids, f_val, e_ids, e_val, f_at, e_at):
        self.rows = rows                     # request file (str) → i
        self.f_ids, self.f_val, self.e_ids, self.e_val = f_ids, f_val, e_ids, e_val
        self.f_at, self.e_at = f_at, e_at

    @classmethod
    def of(cls, kept: list, all_codes) -> "Kept":
        kept = sorted(kept, key=lambda k: k[0])     # worker order varies: keep it stable
        def cat(i, empty):
            return np.concatenate([k[i] for k in kept]) if kept else empty
        f_at = np.cumsum([0] + [len(k[1]) for k in kept])
        e_at = np.cumsum([0] + [len(k[3]) for k in kept])
        e_ids = np.searchsorted(all_codes, cat(3, np.zeros(0, np.int64))).astype(np.int32)
        return cls({k[0]: i for i, k in enumerate(kept)}, cat(1, np.zeros(0, np.int32)),
                   cat(2, np.zeros((0, 4))), e_ids, cat(4, np.zeros((0, 4))), f_at, e_at)

    def __contains__(self, file) -> bool:
        return str(file) in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def sums(self, files):
        """The ``store.Sums`` of kept requests *files* (every one must be kept)."""
        from .store import Sums, _COLS, sum_rows   # store imports this module
        rows = [self.rows[str(f)] for f in files]
        fs = [slice(self.f_at[i], self.f_at[i + 1]) for i in rows]
        es = [slice(self.e_at[i], self.e_at[i + 1]) for i in rows]
        f_ids, f_val = sum_rows([self.f_ids[s] for s in fs], [self.f_val[s] for s in fs])
        if sum(s.stop - s.start for s in es):
            e_ids, e_val = sum_rows([self.e_ids[s] for s in es], [self.e_val[s] for s in es])
        else:
            e_ids, e_val = np.zeros(0, np.int32), np.zeros((0, _COLS))
        return Sums(f_ids.astype(np.int32), f_val, e_ids.astype(np.int32), e_val, len(rows))

    def times(self, file) -> tuple:
        """``(function ids, self times, total times)`` of one kept request."""
        i = self.rows[str(file)]
        s = slice(self.f_at[i], self.f_at[i + 1])
        return self.f_ids[s], self.f_val[s, 2], self.f_val[s, 3]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.f_ids, self.f_val, self.e_ids, self.e_val,
                                      self.f_at, self.e_at))
