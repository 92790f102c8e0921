"""Importer for speedscope's JSON file format (what ``py-spy record --format speedscope``,
pyinstrument's speedscope renderer and many other profilers write).

The format is ``file-format-spec.ts`` in speedscope's repository (its JSON schema ships in
the ``speedscope`` npm package): ``shared.frames`` (``name``, optional ``file``, ``line``,
``col``) and ``profiles``, each ``sampled`` (``samples``: stacks of frame indexes, root
first, with ``weights``) or ``evented`` (``O``/``C`` events opening and closing frames
``at`` a value).  Every profile of a file is read (py-spy writes one per thread).  Only
time units are taken (``nanoseconds`` to ``seconds``): ``none`` and ``bytes`` weights are
not times, and profview shows time.  Frames become FuncKeys ``(file, line, name)`` as the
file gives them (py-spy's ``line`` is the line sampled, so a function sampled at two lines
is two frames, as speedscope itself shows it).
"""
from __future__ import annotations

import math

from .stack_build import Builder, StackInputError, frame_key, read_json

SCHEMA = "https://www.speedscope.app/file-format-schema.json"
SUFFIXES = (".speedscope.json", ".speedscope")
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
UNITS_MS = {"nanoseconds": 1e-6, "microseconds": 1e-3, "milliseconds": 1.0, "seconds": 1e3}


def sniff(name: str, head: bytes = b"") -> bool:
    """By name (``*.speedscope.json``) or by the schema URL near the start of the JSON."""
    if str(name).lower().endswith(SUFFIXES):
        return True
    return head[:1] == b"{" and b"speedscope.app/file-format-schema" in head[:4096]


def _fail(message: str):
    raise StackInputError("speedscope file: " + message)


def load(path, max_bytes: int = DEFAULT_MAX_BYTES) -> list:
    """``[StackProfile]``, one per profile of the file; StackInputError names what is
    wrong, OSError when it cannot be read."""
    doc = read_json(path, max_bytes, "speedscope file")
    return parse(doc)


def parse(doc) -> list:
    """The profiles of a decoded speedscope document."""
    if not isinstance(doc, dict) or not isinstance(doc.get("profiles"), list):
        _fail("no 'profiles' list: not a speedscope file")
    shared = doc.get("shared")
    raw = shared.get("frames") if isinstance(shared, dict) else None
    if not isinstance(raw, list):
        _fail("no 'shared.frames' list")
    frames = []
    for i, f in enumerate(raw):
        if not isinstance(f, dict) or type(f.get("name")) is not str:
            _fail("frame %d has no name" % i)
        line = f.get("line")
        frames.append(frame_key(f.get("file"), line if type(line) is int else 0, f["name"]))
    out = []
    for n, prof in enumerate(doc["profiles"]):
        if not isinstance(prof, dict):
            _fail("profile %d is not an object" % n)
        name = prof.get("name") if type(prof.get("name")) is str else "profile %d" % (n + 1)
        unit = prof.get("unit")
        if unit not in UNITS_MS:
            _fail("profile %r weighs in %r, not in time: profview shows time" % (name, unit))
        scale = UNITS_MS[unit]
        kind = prof.get("type")
        if kind == "sampled":
            builder = _sampled(prof, frames, scale, name)
        elif kind == "evented":
            builder = _evented(prof, frames, scale, name)
        else:
            _fail("profile %r has type %r (sampled or evented)" % (name, kind))
        out.append(builder.build(name, notes=(
            "speedscope file: no clock time (its values start at 0), so it cannot be placed "
            "beside a query log",)))
    if not out:
        _fail("no profile in the file")
    return out


def _sampled(prof: dict, frames: list, scale: float, name: str) -> Builder:
    samples, weights = prof.get("samples"), prof.get("weights")
    if not isinstance(samples, list) or not isinstance(weights, list) \
            or len(samples) != len(weights):
        _fail("profile %r: 'samples' and 'weights' are not lists of one length" % name)
    builder, n = Builder(), len(frames)
    for i, (stack, w) in enumerate(zip(samples, weights)):
        if not isinstance(stack, list) or not all(type(f) is int and 0 <= f < n
                                                  for f in stack):
            _fail("profile %r: sample %d is not a list of frame indexes" % (name, i))
        if type(w) not in (int, float) or not math.isfinite(w) or w < 0:
            _fail("profile %r: weight %d is not a time of 0 or more" % (name, i))
        builder.add([frames[f] for f in stack], w * scale)
    return builder


def _evented(prof: dict, frames: list, scale: float, name: str) -> Builder:
    """Open/close events as samples: between two events, the open frames ran."""
    events = prof.get("events")
    if not isinstance(events, list):
        _fail("profile %r: no 'events' list" % name)
    builder, n = Builder(), len(frames)
    stack: list = []
    last = prof.get("startValue")
    last = last if type(last) in (int, float) and math.isfinite(last) else None
    for i, ev in enumerate(events):
        if not isinstance(ev, dict) or ev.get("type") not in ("O", "C") \
                or type(ev.get("frame")) is not int or not 0 <= ev["frame"] < n \
                or type(ev.get("at")) not in (int, float) or not math.isfinite(ev["at"]):
            _fail("profile %r: event %d is not {type O|C, frame, at}" % (name, i))
        at = ev["at"]
        if last is not None and at < last:
            _fail("profile %r: event %d goes back in time" % (name, i))
        if stack and last is not None:
            builder.add([frames[f] for f in stack], (at - last) * scale)
        last = at
        if ev["type"] == "O":
            stack.append(ev["frame"])
        elif not stack or stack[-1] != ev["frame"]:
            _fail("profile %r: event %d closes a frame that is not the innermost open one"
                  % (name, i))
        else:
            stack.pop()
    return builder
