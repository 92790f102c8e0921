"""The profile files: names from a fixed alphabet, written whole, kept under a size cap.

A request controls its method and path, and Werkzeug's development server accepts any method
(``../../x``, ``/etc/x``): a name that kept them would write outside the capture directory.
So every part of a name is rebuilt from a short list of characters, and the joined path is
checked against the directory as a last line of defence.

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
import re
import secrets
import threading
from typing import NamedTuple, Optional

MAX_PATH_CHARS = 120       # file names stay well under the usual 255-byte limit
MAX_METHOD_CHARS = 16
# The method is the first dot-separated field of the name, so it holds no dot; readers of
# Werkzeug names expect it upper-case and starting with a letter.
_NOT_METHOD = re.compile(r"[^A-Z_-]")
_NOT_PATH = re.compile(r"[^A-Za-z0-9._-]")
_ID = re.compile(r"[0-9a-f]{1,32}")
# The profiles and stacks files this package writes (and so may remove, under max_mb):
# nothing else.
OURS = re.compile(r"^(?:[A-Z][A-Z_-]*\.[A-Za-z0-9._-]*\.\d+ms\.\d+\.[0-9a-f]{12}"
                  r"\.(?:prof|stacks)|stacks\.\d+\.[0-9a-f]{12}\.stacks)$")
# A process's stacks file (``append_stacks``) is left for a new one beyond this size, so
# that the oldest can be removed under max_mb while the newest are written.
STACKS_FILE_BYTES = 8 * 1024 * 1024


class UnsafeName(ValueError):
    """A file name that would not land directly inside its directory."""


def clean_method(method: str) -> str:
    """*method* as the first field of a file name: ``A-Z``, ``_`` and ``-``, a letter first."""
    method = _NOT_METHOD.sub("_", str(method)[:MAX_METHOD_CHARS].upper())[:MAX_METHOD_CHARS]
    if not method or not "A" <= method[0] <= "Z":
        method = ("X" + method)[:MAX_METHOD_CHARS]
    return method


def clean_path(path_info: str) -> str:
    """Werkzeug's form of *path_info* (``/`` → ``.``, ``root`` when empty), other characters
    than ``A-Za-z0-9._-`` replaced by ``_``, cut at MAX_PATH_CHARS."""
    path = str(path_info)[: MAX_PATH_CHARS * 4].strip("/").replace("/", ".")
    return _NOT_PATH.sub("_", path)[:MAX_PATH_CHARS] or "root"


def profile_name(method: str, path_info: str, elapsed_ms: float, end: float,
                 request_id: str) -> str:
    """Werkzeug's default name with a request id before ``.prof``, from a fixed alphabet.

    ``profile_name("GET", "/user/alice", 23.4, 1795313503.2, "4f1c9a2b7d3e")`` is
    ``GET.user.alice.23ms.1795313503.4f1c9a2b7d3e.prof``.
    """
    if not _ID.fullmatch(request_id):
        raise UnsafeName("request id %r is not lower-case hex" % (request_id,))
    elapsed = max(0.0, float(elapsed_ms))
    end = max(0.0, float(end))
    return "%s.%s.%.0fms.%.0f.%s.prof" % (clean_method(method), clean_path(path_info),
                                          elapsed, end, request_id)


def inside(directory: str, name: str) -> str:
    """The path of *name* in *directory*; raises UnsafeName unless it is a plain entry of it.

    Both sides are resolved (symbolic links, ``..``), so a name can neither climb out nor
    reach elsewhere through a link.
    """
    if not name or name in (".", "..") or os.sep in name or (os.altsep and os.altsep in name) \
            or "\x00" in name:
        raise UnsafeName("not a plain file name: %r" % (name,))
    base = os.path.realpath(directory)
    path = os.path.realpath(os.path.join(base, name))
    if os.path.dirname(path) != base:
        raise UnsafeName("%r is not inside %r" % (name, base))
    return path


SLACK = 0.05      # a listing frees 5% of the cap beyond what is needed


class Saved(NamedTuple):
    """What became of one profile: kept, or why not; and what the cap removed for it."""

    kept: bool
    reason: Optional[str]      # None, "max_mb" (larger than the cap) or "error"
    removed: list              # file names removed by the cap


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
    | getattr(os, "O_BINARY", 0)


def _write_new(path: str, data: bytes) -> None:
    """Write *data* to a new file at *path* (never through an existing file or link); a
    short write (disk full) removes the file it created and raises."""
    fd = os.open(path, _NEW_FILE, 0o644)   # fails on anything there, link or file
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        try:
            os.unlink(path)
        except OSError:
            pass
        raise
    os.close(fd)


class ProfileStore:
    """Profiles of *directory*, at most *max_mb* megabytes of them (None: no cap)."""

    def __init__(self, directory: str, max_mb: Optional[float] = None):
        self.directory = directory
        self.cap = None if max_mb is None else int(max_mb * 1024 * 1024)
        self._trim_lock = threading.Lock()
        self._lock = threading.Lock()
        self._stacks_lock = threading.Lock()
        self._stacks = None        # (pid, name, fd, size) of this process's stacks file
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

    def append_stacks(self, data: bytes):
        """Append one request's stacks (*data*, whole lines) to this process's stacks file;
        ``(file name, offset, length, removed)``, or None when it could not be written.

        One file per process (``stacks.<pid>.<token>.stacks``), kept open and appended to:
        a new file per request cost 0.3 ms on this machine's disk, most of what stacks added
        to a short request (``bench/bench_stacks.py``).  Only this process writes its file
        (the token is new in every process, and after a fork), so the offset it counts is
        where the lines land.  A failed or short write abandons the file (the next request
        starts another), so a block is never followed by one that lies about its offset.
        """
        with self._stacks_lock:
            try:
                if self._stacks is None or self._stacks[0] != os.getpid() \
                        or self._stacks[3] >= STACKS_FILE_BYTES \
                        or os.fstat(self._stacks[2]).st_nlink == 0:   # removed (max_mb)
                    self._open_stacks()
                pid, name, fd, offset = self._stacks
                if self.cap is not None and len(data) > self.cap:
                    return None
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                self._stacks = (pid, name, fd, offset + len(data))
            except Exception:     # disk full, permissions: the request goes on
                self._close_stacks()
                return None
        removed = self._account(len(data), name) if self.cap is not None else []
        return name, offset, len(data), removed

    def _open_stacks(self) -> None:
        self._close_stacks()
        name = "stacks.%d.%s.stacks" % (os.getpid(), secrets.token_hex(6))
        fd = os.open(inside(self.directory, name), _NEW_FILE | os.O_APPEND, 0o644)
        self._stacks = (os.getpid(), name, fd, 0)

    def _close_stacks(self) -> None:
        if self._stacks is not None and self._stacks[0] == os.getpid():
            try:
                os.close(self._stacks[2])
            except OSError:
                pass
        self._stacks = None     # a forked child's copy of the parent's fd is the parent's

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
