"""Importer for pyinstrument's JSON: a saved session (``Session.save``, ``*.pyisession``) and
the tree ``pyinstrument --renderer json`` writes.

A session holds ``frame_records``: ``[stack, seconds]`` in the order they were sampled, each
frame ``"function\\x00file\\x00first line"`` plus ``\\x01``-separated attributes (``l`` the
line executing, ``c`` the class); the outermost is the thread (``"<thread>"``), which is not
code and is left out.  ``start_time`` is a clock time, so its samples can be placed beside a
query log.  The renderer's tree has each frame's inclusive ``time`` and its ``children``; a
frame's own time is the rest, and the tree has no time order (``timed`` False).
"""
from __future__ import annotations

import math

from .stack_build import Builder, StackInputError, frame_key, read_json

SUFFIXES = (".pyisession",)
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
EPOCH = (0.0, 1e11)


def sniff(name: str, head: bytes = b"") -> bool:
    """By name (``*.pyisession``) or by the keys pyinstrument writes first."""
    if str(name).lower().endswith(SUFFIXES):
        return True
    start = head[:4096]
    return start[:1] == b"{" and b'"start_time"' in start and (
        b'"frame_records"' in start or b'"root_frame"' in start
        or b'"sample_count"' in start and b'"duration"' in start)


def _fail(message: str):
    raise StackInputError("pyinstrument file: " + message)


def load(path, max_bytes: int = DEFAULT_MAX_BYTES) -> list:
    """``[StackProfile]`` (one): StackInputError names what is wrong."""
    doc = read_json(path, max_bytes, "pyinstrument file")
    return [parse(doc)]


def parse(doc):
    """The profile of a decoded session or renderer document."""
    if not isinstance(doc, dict):
        _fail("not a JSON object")
    start = doc.get("start_time")
    if type(start) not in (int, float) or not EPOCH[0] <= start < EPOCH[1]:
        _fail("start_time is not a clock time in epoch seconds")
    name = doc.get("target_description") if type(doc.get("target_description")) is str \
        else "pyinstrument session"
    if isinstance(doc.get("frame_records"), list):
        duration = doc.get("duration")
        duration = float(duration) if type(duration) in (int, float) and \
            0 <= duration < 1e7 else None
        return _session(doc["frame_records"], float(start), name, duration)
    if isinstance(doc.get("root_frame"), dict) or doc.get("root_frame") is None \
            and "root_frame" in doc:
        return _tree(doc.get("root_frame"), float(start), name)
    _fail("neither frame_records (a session) nor root_frame (the json renderer)")


def _frame(text: str) -> tuple:
    """``(FuncKey, line)`` of a session's frame string; ``(None, thread ident)`` for the
    thread's pseudo-frame."""
    ident, _, attrs = text.partition("\x01")
    parts = ident.split("\x00")
    if len(parts) != 3:
        _fail("a frame is not 'function\\0file\\0line': %r" % text[:80])
    function, filename, first = parts
    if filename == "<thread>":
        return None, int(first) if _digits(first, 19) else 0
    line = 0
    for attr in attrs.split("\x01") if attrs else ():
        if attr[:1] == "l" and _digits(attr[1:], 9):
            line = int(attr[1:])
    first = int(first) if _digits(first, 9) else 0
    return frame_key(filename, first, function), line


def _digits(text: str, most: int) -> bool:
    """ASCII digits, at most *most* of them (``isdigit`` alone takes "²", which int() refuses,
    and a 5,000-digit line number is no line)."""
    return 0 < len(text) <= most and text.isascii() and text.isdigit()


def _session(records: list, start: float, name: str, duration=None):
    builder, seen, threads = Builder(), {}, set()
    for i, rec in enumerate(records):
        if not (isinstance(rec, list) and len(rec) == 2 and isinstance(rec[0], list)
                and type(rec[1]) in (int, float) and math.isfinite(rec[1]) and rec[1] >= 0):
            _fail("frame record %d is not [stack, seconds]" % i)
        frames, lines = [], []
        for text in rec[0]:
            if type(text) is not str:
                _fail("frame record %d holds a frame that is not text" % i)
            got = seen.get(text)
            if got is None:
                got = seen[text] = _frame(text)
            if got[0] is None:
                threads.add(got[1])
            else:
                frames.append(got[0])
                lines.append(got[1])
        builder.add(frames, rec[1] * 1000.0, lines)
    # the thread it profiled (its "<thread>" frame), for cutting it by requests.jsonl
    thread = next(iter(threads)) if len(threads) == 1 else 0
    # the session's own duration, when it holds its samples: its end, idle tail included
    end = duration * 1000.0 if duration is not None and duration * 1000.0 >= builder.now \
        else None
    return builder.build(name, start=start, clock=True, timed=True, thread=thread, end_ms=end)


def _tree(root, start: float, name: str):
    builder = Builder()
    todo = [(root, ())] if root is not None else []
    count = 0
    while todo:
        node, path = todo.pop()
        count += 1
        if count > 5_000_000:
            _fail("more than 5,000,000 frames")
        if not isinstance(node, dict) or type(node.get("function")) is not str \
                or type(node.get("time")) not in (int, float) \
                or not isinstance(node.get("children", []), list):
            _fail("a frame is not {function, time, children}")
        key = frame_key(node.get("file_path") or node.get("file_path_short"),
                        node.get("line_no"), node["function"])
        here = path + (key,)
        kids = node.get("children", [])
        inner = sum(k.get("time", 0) for k in kids if isinstance(k, dict)
                    and type(k.get("time")) in (int, float))
        builder.add(list(here), (node["time"] - inner) * 1000.0)
        todo.extend((k, here) for k in reversed(kids))
    return builder.build(name, start=start, clock=True, timed=False, notes=(
        "pyinstrument's json renderer: a tree of totals, without time order",))
