"""Reading input files that anyone may have written: regular files only, never past a limit.

A capture directory can hold a FIFO named ``x.prof`` (reading it blocks forever, and the
window cannot quit), a symlink to ``/dev/zero`` (``stat`` says size 0, reading never ends),
or a file that grows while it is read.  So every importer reads through ``read_regular``:
the file is opened without blocking, checked with ``fstat`` on the open descriptor (what was
opened is what is checked: no race with a rename), and read up to the limit, no further.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(
    os, "O_BINARY", 0)
CHUNK = 1 << 20
LOG_MAX_BYTES = 200 * 1024 * 1024   # a query log or sidecar larger than this is refused
MAX_LISTED = 50                     # bad lines listed per file; the rest are counted


class FileRefused(OSError):
    """The path is not a regular file, or it holds more than the limit."""


def read_regular(path, max_bytes: int) -> bytes:
    """The bytes of the regular file at *path*, at most *max_bytes* of them.

    Raises FileRefused (an OSError) for a FIFO, socket, device or directory, and for a file
    larger than the limit (as it is on disk, or as it grows while read); other OSErrors
    (missing, unreadable) as the system gives them.
    """
    fd = os.open(os.fspath(path), _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("not a regular file (%s)" % _kind(info.st_mode))
        if info.st_size > max_bytes:
            raise FileRefused("file is %s, over the %s limit" % (
                _size(info.st_size), _size(max_bytes)))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)   # a regular file: plain reads from here on
        parts, total = [], 0
        while True:
            part = os.read(fd, min(CHUNK, max_bytes + 1 - total))
            if not part:
                return b"".join(parts)
            parts.append(part)
            total += len(part)
            if total > max_bytes:
                raise FileRefused("file grew past the %s limit while it was read"
                                  % _size(max_bytes))
    finally:
        os.close(fd)


def read_range(path, offset: int, length: int) -> bytes:
    """*length* bytes of the regular file at *path* from *offset* (fewer when the file ends
    first); FileRefused for anything but a regular file."""
    fd = os.open(os.fspath(path), _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("not a regular file (%s)" % _kind(info.st_mode))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        parts, total = [], 0
        while total < length:
            part = os.pread(fd, min(CHUNK, length - total), offset + total)
            if not part:
                break
            parts.append(part)
            total += len(part)
        return b"".join(parts)
    finally:
        os.close(fd)


def read_head(path, size: int = 65536) -> bytes:
    """The first *size* bytes of a regular file (for sniffing its format)."""
    fd = os.open(os.fspath(path), _FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileRefused("not a regular file (%s)" % _kind(os.fstat(fd).st_mode))
        return os.read(fd, size)
    finally:
        os.close(fd)


def head_objects(head: bytes, lines: int = 50):
    """The JSON objects among the first *lines* lines of *head* (for sniffing a JSON-lines
    log: lines that are not JSON, or too deeply nested, are passed over)."""
    for raw in head.split(b"\n")[:lines]:
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            continue
        if isinstance(obj, dict):
            yield obj


def is_regular(path: Path) -> bool:
    """True for a regular file (following a symlink), without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a plain file"


def _size(n: int) -> str:
    return "%.0f MB" % (n / 1e6) if n >= 1e6 else "%d bytes" % n


def line_problems(path, bad) -> list:
    """Problems for a file's bad lines (``[(line number, message)]``): the first
    ``MAX_LISTED``, then one that counts the rest."""
    from ..model.request import Problem

    problems = [Problem(str(path), message, number) for number, message in bad[:MAX_LISTED]]
    if len(bad) > MAX_LISTED:
        problems.append(Problem(str(path), "%d more bad lines not listed"
                                % (len(bad) - MAX_LISTED)))
    return problems
