"""Write profile files whole, and keep the directory under a size cap, oldest removed first.

A profile is written to a temporary name and renamed, so a reader following the directory
never opens half a file.  With a cap, each process adds up what it wrote since it last
looked; once that passes the cap it lists the directory (the other workers write there too),
and removes the oldest of this package's profiles until they are back under the cap less
SLACK, so that the listing is repeated only every few percent of the cap.  The directory can
go over the cap between two looks by what the *other* processes wrote meanwhile, at most
about SLACK times the cap per process.
"""
from __future__ import annotations

import marshal
import os
import threading
from typing import NamedTuple, Optional

from .names import OURS, inside

SLACK = 0.05      # a listing frees 5% of the cap beyond what is needed


class Saved(NamedTuple):
    """What became of one profile: kept, or why not; and what the cap removed for it."""

    kept: bool
    reason: Optional[str]      # None, "max_mb" (larger than the cap) or "error"
    removed: list              # file names removed by the cap


def _write_new(path: str, data: bytes) -> None:
    """Write *data* to a new file at *path* (never through an existing file or link)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
        | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


class ProfileStore:
    """Profiles of *directory*, at most *max_mb* megabytes of them (None: no cap)."""

    def __init__(self, directory: str, max_mb: Optional[float] = None):
        self.directory = directory
        self.cap = None if max_mb is None else int(max_mb * 1024 * 1024)
        self._trim_lock = threading.Lock()
        self._lock = threading.Lock()
        self._written = 0          # bytes this process wrote since it last listed the directory
        self._seen = self._total() if self.cap is not None else 0

    def save(self, name: str, profile) -> Saved:
        """Write *profile* (a disabled cProfile.Profile) as *name*; never raises."""
        tmp = None
        try:
            path = inside(self.directory, name)
            profile.create_stats()
            data = marshal.dumps(profile.stats)
            if self.cap is not None and len(data) > self.cap:
                return Saved(False, "max_mb", [])
            tmp = path + ".tmp"        # not a name readers look at
            _write_new(tmp, data)
            os.replace(tmp, path)
            tmp = None
        except Exception:  # disk full, permissions, a hostile name: the request goes on
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            return Saved(False, "error", [])
        return Saved(True, None, self._account(len(data), name) if self.cap is not None else [])

    def _account(self, size: int, keep: str) -> list:
        with self._lock:
            self._written += size
            over = self._seen + self._written > self.cap
        if not over or not self._trim_lock.acquire(blocking=False):
            return []                  # under the cap, or another thread is already trimming
        try:
            return self._trim(keep)
        finally:
            self._trim_lock.release()

    def _ours(self) -> list:
        """``[(mtime, name, size)]`` of this package's profiles in the directory."""
        found = []
        try:
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    if OURS.match(entry.name):
                        try:
                            st = entry.stat(follow_symlinks=False)
                        except OSError:
                            continue   # removed meanwhile, by another worker
                        found.append((st.st_mtime, entry.name, st.st_size))
        except OSError:
            pass
        return found

    def _total(self) -> int:
        return sum(size for _m, _n, size in self._ours())

    def _trim(self, keep: str) -> list:
        """Remove the oldest profiles until they fit under the cap less SLACK; their names."""
        with self._lock:
            counted = self._written     # what the listing below already sees
        entries = sorted(self._ours())
        total = sum(size for _m, _n, size in entries)
        target = self.cap * (1 - SLACK) if total > self.cap else total
        removed = []
        for _mtime, name, size in entries:
            if total <= target:
                break
            if name == keep:
                continue
            try:
                os.unlink(os.path.join(self.directory, name))
                removed.append(name)
            except FileNotFoundError:
                pass                   # another worker removed it first
            except OSError:
                continue
            total -= size
        with self._lock:
            self._seen, self._written = total, self._written - counted
        return removed
