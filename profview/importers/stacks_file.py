"""Importer for ``.stacks`` files: the sampled call stacks of requests (JSON lines).

The capture helper (``profview.capture``) appends each request's stacks, as one block of
lines, to its process's ``stacks.<pid>.<token>.stacks``; the request's line in
``requests.jsonl`` names the file and the block (``stacks``, ``stacks_at``: offset and
length), and a request's stacks are addressed as ``block_path(file, offset, length)``.
(Earlier captures wrote a file per request, named like its profile: ``stacks_name``; such a
file is one block.)  A block, line by line:

1. header: ``{"stacks": 1, "request": id, "pid": n, "thread": n, "interval_ms": x,
   "start": epoch seconds}``;
2. ``{"frame": [fid, filename, firstlineno, function]}``, ids 0, 1, 2… in order;
3. ``{"stack": [sid, parent sid or null, fid, line]}``, ids 0, 1, 2… in order, a parent
   before its children;
4. ``{"sample": [t_ms, sid]}``, times never going back;
5. ``{"end": t_ms, "samples": n, "missed": m}``.

Every line is checked before use, as ``pstats_file`` checks a profile: a foreign, crafted or
damaged file is a ``StacksError`` naming the line, never an exception from inside a view, and
names are kept as text (nothing is evaluated).  One exception: a *last* line that does not
parse is passed over with a note, for a file cut while it was written; a file without an end
line loads too (``end_ms`` None, and a note says so).
"""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np

from ..model.stacks import StackProfile
from .files import FileRefused, read_head, read_range, read_regular

SUFFIX = ".stacks"
VERSION = 1
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024
MAX_SAMPLES = 2_000_000
MAX_STACKS = 1_000_000
MAX_FRAMES = 1_000_000
MAX_DEPTH = 10_000
MAX_SOURCE_LINE = 10 ** 9     # a line number, as pstats_file bounds them
MAX_MS = 1e10                 # about four months: no request lasts longer
MAX_ID = 2 ** 64              # pids and thread idents (pthread_t) fit in 64 bits
EPOCH_RANGE = (0.0, 1e11)     # seconds since 1970, up to the year 5138
# The writer's own form of a sample line: read without json.loads (two thirds of a file's
# lines, and the loading hot path); anything else goes through json and the full checks.
_SAMPLE = re.compile(rb'\{"sample":\[(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?),([0-9]{1,9})\]\}')
_HEADER = re.compile(rb'^\s*\{\s*"stacks"\s*:')


class StacksError(ValueError):
    """The bytes are not a usable stacks file; the message says why, and on which line."""


def stacks_name(profile_name: str) -> str:
    """The stacks file name of a profile: ``….3fa2.prof`` → ``….3fa2.stacks``."""
    if profile_name.endswith(".prof"):
        return profile_name[: -len(".prof")] + SUFFIX
    return profile_name + SUFFIX


def sniff(name_or_head, head: bytes = b"") -> bool:
    """True for a stacks file: a name (str or path) ending in ``.stacks``, or first bytes
    (``bytes``, as a first argument or as *head*) that start with the header's key."""
    if isinstance(name_or_head, (bytes, bytearray, memoryview)):
        head = bytes(name_or_head)
    elif str(name_or_head).lower().endswith(SUFFIX):
        return True
    return bool(_HEADER.match(head[:256]))


def sniff_file(path) -> bool:
    """True when the file at *path* starts with a stacks header (False if unreadable)."""
    try:
        return sniff(read_head(path, 256))
    except OSError:
        return False


_BLOCK = re.compile(r"^(.*)#([0-9]{1,15})\+([0-9]{1,15})$", re.S)


def block_path(path, offset: int, length: int) -> Path:
    """How a request's block of a stacks file is addressed: ``file.stacks#offset+length``."""
    return Path("%s#%d+%d" % (os.fspath(path), offset, length))


def split_block(path) -> tuple:
    """``(file, offset, length)`` of a ``block_path``; ``(path, None, None)`` for a whole
    file (a file that exists under that very name is always whole)."""
    text = os.fspath(path)
    match = _BLOCK.match(text)
    if match is None or os.path.lexists(text):
        return Path(text), None, None
    return Path(match.group(1)), int(match.group(2)), int(match.group(3))


def load(path, max_bytes: int = DEFAULT_MAX_BYTES) -> StackProfile:
    """The stacks stored at *path* (a file, or a block of one: ``block_path``); raises
    StacksError (not a regular file, over *max_bytes*, or not a valid stacks block) or
    OSError (missing, unreadable)."""
    file, offset, length = split_block(path)
    try:
        if offset is None:
            data = read_regular(file, max_bytes)
        elif length > max_bytes:
            raise StacksError("the block is %d bytes, over the %d limit" % (length, max_bytes))
        else:
            data = read_range(file, offset, length)
            if len(data) < length:
                raise StacksError("the file ends %d bytes into the block (it was cut, or "
                                  "this is not the file the request names)" % len(data))
    except FileRefused as exc:
        raise StacksError(str(exc)) from None
    return parse(data)


def _fail(number: int, message: str):
    raise StacksError("line %d: %s" % (number, message))


def _int(value, low: int, high: int) -> bool:
    return type(value) is int and low <= value < high


def _ms(value) -> bool:
    # bool is an int subclass but never a time; NaN and inf fail the comparisons
    return type(value) in (int, float) and 0.0 <= value <= MAX_MS


def _header(obj, number: int) -> dict:
    if not isinstance(obj, dict) or "stacks" not in obj:
        _fail(number, "not a stacks file (the first line is not a stacks header)")
    if obj["stacks"] != VERSION or type(obj["stacks"]) is not int:
        _fail(number, "stacks file version %s is not supported (this profview reads %d)"
              % (_short(obj["stacks"]), VERSION))
    request, interval, start = obj.get("request"), obj.get("interval_ms"), obj.get("start")
    if type(request) is not str:
        _fail(number, "the header's request is not a string")
    for field in ("pid", "thread"):
        if not _int(obj.get(field), 0, MAX_ID):
            _fail(number, "the header's %s is not a whole number (0 to 2**64)" % field)
    if not (type(interval) in (int, float) and 0.0 < interval <= 1e6):
        _fail(number, "the header's interval_ms is not a number of ms above 0")
    if not (type(start) in (int, float) and EPOCH_RANGE[0] <= start < EPOCH_RANGE[1]):
        _fail(number, "the header's start is not a clock time in epoch seconds")
    return obj


def parse(data: bytes) -> StackProfile:
    """Check and read the bytes of a stacks file; raises StacksError with a readable
    message naming the line."""
    if not data:
        raise StacksError("empty file")
    raw_lines = data.split(b"\n")
    if raw_lines[-1] == b"":
        raw_lines.pop()               # the newline that ends the last line
    notes = []
    frames, fids = [], {}
    parents, stack_frames, stack_lines, depth = [], [], [], []
    times, sids = [], []
    header = end = None
    last_t = 0.0
    final = len(raw_lines)
    fullmatch, add_t, add_sid = _SAMPLE.fullmatch, times.append, sids.append
    for number, raw in enumerate(raw_lines, 1):
        # The hot path: a sample line in the writer's form that passes every check.  Any
        # other line, or one that fails a check, takes the full path and its message.
        match = fullmatch(raw) if header is not None and end is None else None
        if match is not None:
            t, sid = float(match[1]), int(match[2])
            if last_t <= t <= MAX_MS and sid < len(parents) and len(times) < MAX_SAMPLES:
                add_t(t)
                add_sid(sid)
                last_t = t
                continue
        if len(raw) > MAX_LINE_BYTES:
            _fail(number, "longer than %d KB" % (MAX_LINE_BYTES // 1024))
        if end is not None and raw.strip():
            _fail(number, "more lines after the end line")
        if match is not None:
            t, sid = float(match[1]), int(match[2])
            kind, value = "sample", None
        else:
            try:
                obj = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                if number == final:   # cut while it was written: the rest is good
                    notes.append("line %d: an incomplete last line was passed over "
                                 "(the file is cut or still being written)" % number)
                    break
                if isinstance(exc, UnicodeDecodeError):
                    _fail(number, "not UTF-8 text")
                if "digits" in str(exc):   # Python refuses ints of over 4,300 digits
                    _fail(number, "a number too long to read")
                _fail(number, "not JSON")
            if header is None:
                header = _header(obj, number)
                continue
            if not isinstance(obj, dict) or not obj:
                _fail(number, "not a JSON object with one of frame, stack, sample, end")
            kind = "end" if "end" in obj else next(iter(obj))
            if kind not in ("frame", "stack", "sample", "end") or (
                    kind != "end" and len(obj) != 1):
                _fail(number, "unknown record %s" % _short(obj))
            value = obj[kind]
            if kind == "sample":
                if not (type(value) is list and len(value) == 2):
                    _fail(number, "a sample is not [t_ms, sid]")
                t, sid = value
        if kind == "sample":
            if not _ms(t):
                _fail(number, "sample time %s is not a number of ms from 0 to %g"
                      % (_short(t), MAX_MS))
            # Equal times are let through (weight 0): the writer rounds to 1 µs and keeps
            # samples whose times do not go back; only a time that goes back is damage.
            if t < last_t:
                _fail(number, "sample time %s ms goes back (the one before is %s ms)"
                      % (_short(t), _short(last_t)))
            if not _int(sid, 0, len(parents)):
                _fail(number, "sample of stack %s, which is not defined before it"
                      % _short(sid))
            if len(times) >= MAX_SAMPLES:
                _fail(number, "more than %d samples" % MAX_SAMPLES)
            times.append(t)
            sids.append(sid)
            last_t = t
        elif kind == "frame":
            if not (type(value) is list and len(value) == 4 and type(value[1]) is str
                    and _int(value[2], 0, MAX_SOURCE_LINE) and type(value[3]) is str):
                _fail(number, "a frame is not [fid, filename, firstlineno, function]")
            if value[0] != len(frames) or type(value[0]) is not int:
                _fail(number, "frame id %s out of order (expected %d)"
                      % (_short(value[0]), len(frames)))
            if len(frames) >= MAX_FRAMES:
                _fail(number, "more than %d frames" % MAX_FRAMES)
            key = (value[1], value[2], value[3])
            frames.append(fids.setdefault(key, key))   # one tuple per distinct function
        elif kind == "stack":
            if not (type(value) is list and len(value) == 4):
                _fail(number, "a stack is not [sid, parent sid or null, fid, line]")
            sid, parent, fid, line = value
            if sid != len(parents) or type(sid) is not int:
                _fail(number, "stack id %s out of order (expected %d)"
                      % (_short(sid), len(parents)))
            if parent is not None and not _int(parent, 0, sid):
                _fail(number, "stack %d's parent %s is not a stack defined before it"
                      % (sid, _short(parent)))
            if not _int(fid, 0, len(frames)):
                _fail(number, "stack %d's frame %s is not defined before it"
                      % (sid, _short(fid)))
            if not _int(line, 0, MAX_SOURCE_LINE):
                _fail(number, "stack %d's line %s is not a line number" % (sid, _short(line)))
            d = 0 if parent is None else depth[parent] + 1
            if d >= MAX_DEPTH:
                _fail(number, "stack %d is deeper than %d frames" % (sid, MAX_DEPTH))
            if len(parents) >= MAX_STACKS:
                _fail(number, "more than %d stacks" % MAX_STACKS)
            parents.append(-1 if parent is None else parent)
            stack_frames.append(fid)
            stack_lines.append(line)
            depth.append(d)
        else:
            end = _end(obj, number, last_t, len(times))
    if header is None:
        raise StacksError("not a stacks file (no header line: the file is empty or cut)")
    if end is None:
        notes.append("no end line (the file is cut or still being written): the last "
                     "sample counts one interval")
    return StackProfile(
        request=header["request"], pid=header["pid"], thread=header["thread"],
        interval_ms=float(header["interval_ms"]), start=float(header["start"]),
        end_ms=None if end is None else float(end["end"]), frames=tuple(frames),
        stack_parent=np.asarray(parents, np.int32),
        stack_frame=np.asarray(stack_frames, np.int32),
        stack_line=np.asarray(stack_lines, np.int32),
        sample_t=np.asarray(times, np.float64), sample_stack=np.asarray(sids, np.int32),
        missed=0 if end is None else end["missed"], notes=tuple(notes))


def _end(obj: dict, number: int, last_t: float, count: int) -> dict:
    t, samples, missed = obj.get("end"), obj.get("samples"), obj.get("missed")
    if set(obj) != {"end", "samples", "missed"}:
        _fail(number, "an end line is {end, samples, missed}, not %s" % _short(obj))
    if not _ms(t):
        _fail(number, "end time %s is not a number of ms from 0 to %g" % (_short(t), MAX_MS))
    if t < last_t:
        _fail(number, "the end (%s ms) is before the last sample (%s ms)"
              % (_short(t), _short(last_t)))
    if samples != count or type(samples) is not int:
        _fail(number, "the end line counts %s samples, the file holds %d"
              % (_short(samples), count))
    if not _int(missed, 0, 10 ** 12):
        _fail(number, "missed %s is not a count" % _short(missed))
    return obj


def _short(obj, limit: int = 60) -> str:
    """A bounded repr (a 5,000-digit int has no repr at all: ValueError)."""
    try:
        text = repr(obj)
    except ValueError:
        return "<a number too long to show>"
    if isinstance(obj, float) and not math.isfinite(obj):
        return text
    return text if len(text) <= limit else text[:limit] + "…"
