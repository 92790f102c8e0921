"""Profiles are first unmarshalled by a throw-away interpreter, so a crafted one cannot crash us.

``marshal`` is not safe against crafted data: a real profile with a few bytes changed
(found by ``tests/test_fuzz_mutation.py``) makes ``marshal.loads`` crash CPython 3.11, 3.12
and 3.13 with a segmentation fault.  No exception can catch that, and it would take the
window and every other file with it.  Captures parsed in worker processes are safe (a dead
worker names its file); the profiles read in this process are first loaded by a child
interpreter (``python -I -S``: no site, about 10 ms to start), which says which file it
was reading when it died.  That file becomes a problem, the child is started again after
it, and only the files it survived are read here.

What passed is remembered by (path, size, mtime), so a reload or a second view of the same
files does not pay again.  Written by hand: no library checks marshal data for safety.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading

from ..importers.profiles import stack_format
from ..model.request import Problem

_CHILD = r"""
import marshal, os, stat, sys
try:
    import resource
    HARD = resource.getrlimit(resource.RLIMIT_AS)[1]
    PAGE = os.sysconf("SC_PAGE_SIZE")
except Exception:
    resource = None


def cap(size):
    # As the loader does (pstats_file._bounded_loads): memory in use + 64x the file + 256 MB,
    # so a crafted container length fails at once instead of allocating gigabytes.
    if resource is None:
        return
    try:
        with open("/proc/self/statm") as fh:
            used = int(fh.read().split()[0]) * PAGE
        budget = used + 64 * size + (256 << 20)
        resource.setrlimit(resource.RLIMIT_AS, (budget if HARD == resource.RLIM_INFINITY
                                                else min(budget, HARD), HARD))
    except Exception:
        pass
limit = int(sys.argv[1])
flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
out = sys.stdout
for path in sys.stdin.buffer.read().split(b"\0")[:-1]:   # NUL-separated: names may hold \n
    try:
        fd = os.open(path, flags)
        try:
            info = os.fstat(fd)
            data = b""
            if stat.S_ISREG(info.st_mode) and info.st_size <= limit:
                os.set_blocking(fd, True)
                data = os.read(fd, limit + 1)
        finally:
            os.close(fd)
        if data[:1] in (b"{", b"\xfb"):
            cap(len(data))
            marshal.loads(data)
    except BaseException:
        pass
    out.write(".")
    out.flush()
"""
CRASHED = ("unmarshalling this file crashed a Python interpreter (the file is corrupt or "
           "crafted); it is not read, the other files are")
_passed: set = set()
_crashed: set = set()
_lock = threading.Lock()


def _stamp(path) -> tuple | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (os.path.abspath(path), info.st_size, info.st_mtime_ns)


def screen(found: list, max_bytes: int) -> tuple:
    """``(safe, problems)``: the Found items whose files a child interpreter unmarshalled
    without dying, and a Problem for each one that killed it."""
    todo = []
    crashed = set()
    for item in found:
        if stack_format(item.path) is not None:
            continue              # JSON, read by json: nothing marshal could crash on
        stamp = _stamp(item.path)
        with _lock:
            if stamp is not None and stamp in _crashed:
                crashed.add(id(item))
            elif stamp is None or stamp not in _passed:
                todo.append((item, stamp))
    start = 0
    while start < len(todo):
        done = _run_child([str(item.path) for item, _s in todo[start:]], max_bytes)
        if done is None:          # no child could be started: read here, as before
            break
        start += done
        if start < len(todo):     # it died on todo[start]
            crashed.add(id(todo[start][0]))
            start += 1
    with _lock:
        for item, stamp in todo:
            if stamp is not None:
                (_crashed if id(item) in crashed else _passed).add(stamp)
    safe = [item for item in found if id(item) not in crashed]
    problems = [Problem(str(item.path), CRASHED) for item in found if id(item) in crashed]
    return safe, problems


def _run_child(paths: list, max_bytes: int) -> int | None:
    """How many of *paths* a child got through before it ended (all, or the index of the
    one it died on); None when it could not run at all."""
    try:
        child = subprocess.Popen([sys.executable, "-I", "-S", "-c", _CHILD, str(max_bytes)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
    except OSError:
        return None

    def feed() -> None:
        try:
            for path in paths:
                child.stdin.write(os.fsencode(path) + b"\0")
            child.stdin.close()
        except (BrokenPipeError, OSError):
            pass   # it died: the reader below knows where

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    done = len(child.stdout.read())
    child.wait()
    writer.join()
    if child.returncode == 0:
        return len(paths)
    if child.returncode < 0:            # killed by a signal: the file it was reading
        return min(done, len(paths) - 1)
    return None                         # it could not run (no interpreter, no memory)
