"""Importer for collapsed ("folded") stacks files: ``a;b;c 42`` per line, Brendan Gregg's
format, written by ``py-spy record --format raw``, Austin and the flamegraph tools.

Frames are read as each writer names them: py-spy's ``function (file:line)``, Austin's
``file:function:line`` (its ``P<pid>`` and ``T<thread>`` frames are not code and are left
out), anything else as a bare name.  The file has no time order (``timed`` False) and no
clock.  The numbers are counts unless the file says otherwise: profview's own export and
Austin write ``# interval_ms:`` / ``# interval:`` (microseconds) and Austin's values are
microseconds; for a bare file each count is taken as ``DEFAULT_INTERVAL_MS`` (py-spy's
default rate, 100 samples a second) and the profile's notes say that the times are
therefore estimated.
"""
from __future__ import annotations

import math
import re

from .files import FileRefused, read_regular
from .stack_build import Builder, StackInputError, frame_key

SUFFIXES = (".folded", ".collapsed")
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_INTERVAL_MS = 10.0
_LINE = re.compile(rb"^(\S.*|) ([0-9]{1,30}(?:\.[0-9]{1,30})?)\s*$")
# line numbers of at most 9 digits (longer ones are not lines: the frame stays a bare name)
_PYSPY = re.compile(r"^(.*) \((.*):([0-9]{1,9})\)$")
_AUSTIN = re.compile(r"^(.+):([^:;]+):([0-9]{1,9})$")
_AUSTIN_META = re.compile(r"^(?:P[0-9]+|T[0-9a-fA-Fx:]+)$")


def sniff(name: str, head: bytes = b"") -> bool:
    """By name (``*.folded``, ``*.collapsed``) or by a first line that looks like one."""
    if str(name).lower().endswith(SUFFIXES):
        return True
    for raw in head.split(b"\n")[:5]:
        if raw.strip() and not raw.startswith(b"#"):
            return bool(_LINE.match(raw)) and b";" in raw
    return False


def _fail(number: int, message: str):
    raise StackInputError("folded stacks, line %d: %s" % (number, message))


def _frame(text: str):
    m = _PYSPY.match(text)
    if m:
        return frame_key(m[2], int(m[3]), m[1])
    m = _AUSTIN.match(text)
    if m:
        return frame_key(m[1], int(m[3]), m[2])
    if _AUSTIN_META.match(text):
        return None
    return frame_key("<folded>", 0, text)


def load(path, max_bytes: int = DEFAULT_MAX_BYTES) -> list:
    """``[StackProfile]`` (one); StackInputError names the first bad line."""
    try:
        data = read_regular(path, max_bytes)
    except FileRefused as exc:
        raise StackInputError(str(exc)) from None
    return [parse(data, str(path))]


def parse(data: bytes, name: str = "folded stacks"):
    """The profile of the bytes of a folded file."""
    scale, note = None, None
    builder, seen = Builder(), {}
    austin, frameless, cut = False, 0, None
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        if raw.startswith(b"#"):
            key, _, value = raw[1:].decode("utf-8", "replace").partition(":")
            key, value = key.strip().lower(), value.strip()
            if key == "interval_ms" and _number(value):
                scale = float(value)
            elif key == "austin":
                austin = True
            continue
        m = _LINE.match(raw)
        if m is None and number == len(lines) and not data.endswith(b"\n"):
            cut = number               # cut while it was written: the rest is good
            break
        if m is None:
            _fail(number, "not 'frame;frame;… count'")
        try:
            text = m[1].decode("utf-8")
        except UnicodeDecodeError:
            _fail(number, "not UTF-8 text")
        if not text:                   # py-spy: samples of a thread in no Python code
            frameless += 1
            continue
        frames = []
        for part in text.split(";"):
            got = seen.get(part)
            if got is None:
                got = seen[part] = _frame(part) or ()
                austin = austin or bool(_AUSTIN_META.match(part))
            if got:
                frames.append(got)
        value = float(m[2])
        if not math.isfinite(value):
            _fail(number, "the count is not a number")
        builder.add(frames, value)     # scaled below, once the unit is known
    if scale is None and austin:
        scale, note = 1e-3, None       # Austin's values are microseconds
    if scale is None:
        scale = DEFAULT_INTERVAL_MS
        note = ("folded stacks give counts, not times: each count is taken as %g ms "
                "(py-spy's default rate, 100 a second), so the times are estimated"
                % DEFAULT_INTERVAL_MS)
    if not builder.t and not frameless:
        _fail(cut or 1, "no stack in the file" + (" (its only line is cut short)" if cut
                                                  else ""))
    notes = [note] if note else []
    if cut:
        notes.append("line %d: an incomplete last line was passed over (the file is cut or "
                     "still being written)" % cut)
    if frameless:
        notes.append("%d line%s without a frame (samples outside Python code) passed over"
                     % (frameless, "" if frameless == 1 else "s"))
    builder.t = [t * scale for t in builder.t]
    builder.now *= scale
    return builder.build(name.rsplit("/", 1)[-1], timed=False,
                         interval_ms=scale if note else None,
                         notes=tuple(notes))


def _number(text: str) -> bool:
    try:
        return float(text) > 0 and math.isfinite(float(text))
    except ValueError:
        return False
