"""Build a ``StackProfile`` from weighted stacks: what the speedscope, pyinstrument and folded
importers read comes down to "this stack, for this long", root first.

Samples are laid end to end (each starts where the one before ended), so that
``StackProfile.weights()`` gives back exactly the weights read; when the input's order is
the order the samples ran in, that is also their time order (``timed``).
"""
from __future__ import annotations

import json
import math

import numpy as np

from ..model.stacks import StackProfile
from .files import FileRefused, read_regular

MAX_SAMPLES = 5_000_000
MAX_DEPTH = 10_000
MAX_LINE = 10 ** 9
MAX_MS = 1e12


class StackInputError(ValueError):
    """An input the importer cannot use; the message says what and where."""


def read_json(path, max_bytes: int, what: str):
    """The JSON document of the file at *path* (at most *max_bytes*); StackInputError that
    starts with *what* ("speedscope file") for anything but a regular file of JSON."""
    try:
        data = read_regular(path, max_bytes)
    except FileRefused as exc:
        raise StackInputError(str(exc)) from None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise StackInputError("%s: not UTF-8 text" % what) from None
    except RecursionError:
        raise StackInputError("%s: JSON nested too deeply" % what) from None
    except ValueError as exc:
        raise StackInputError("%s: not JSON (%s)" % (what, str(exc).split(":")[0])) from None


def frame_key(filename, line, name) -> tuple:
    """A FuncKey from an input's frame: names and files kept as text, a line outside 0 to
    10**9 (or missing) read as 0 (unknown)."""
    line = line if type(line) is int and 0 <= line < MAX_LINE else 0
    return (str(filename) if filename is not None else "<unknown>", line, str(name))


class Builder:
    """Collect ``add(frames, weight_ms, lines)`` calls, then ``build(...)`` the profile."""

    def __init__(self):
        self.fids: dict = {}
        self.frames: list = []
        self.ids: dict = {}                       # (parent sid, fid, line) → sid
        self.parent: list = []
        self.frame: list = []
        self.line: list = []
        self.t: list = []
        self.sid: list = []
        self.now = 0.0

    def add(self, frames, weight_ms: float, lines=None) -> None:
        """One sample: *frames* (FuncKeys, root first) ran for *weight_ms*; *lines*, when
        given, the line each frame was at."""
        if not frames or not weight_ms > 0 or not math.isfinite(weight_ms):
            return                                # nothing ran, or nothing to weigh
        if len(frames) > MAX_DEPTH:
            raise StackInputError("a stack %d frames deep (at most %d)" % (len(frames),
                                                                            MAX_DEPTH))
        if len(self.t) >= MAX_SAMPLES:
            raise StackInputError("more than %d samples" % MAX_SAMPLES)
        sid = -1
        for i, key in enumerate(frames):
            fid = self.fids.get(key)
            if fid is None:
                fid = self.fids[key] = len(self.frames)
                self.frames.append(key)
            line = lines[i] if lines is not None else key[1]
            node = (sid, fid, line)
            got = self.ids.get(node)
            if got is None:
                got = self.ids[node] = len(self.parent)
                self.parent.append(sid)
                self.frame.append(fid)
                self.line.append(line)
            sid = got
        self.t.append(self.now)
        self.sid.append(sid)
        self.now += weight_ms
        if self.now > MAX_MS:
            raise StackInputError("more than %g ms of samples" % MAX_MS)

    def build(self, name: str, *, start: float = 0.0, clock: bool = False,
              timed: bool = True, interval_ms=None, notes=(), pid: int = 0,
              thread: int = 0, end_ms=None) -> StackProfile:
        """The profile of the samples added; ``end_ms`` their total unless given (at least
        that: the last sample then stands for the time to it)."""
        weights = np.diff(np.append(self.t, self.now)) if self.t else np.zeros(0)
        if interval_ms is None:
            interval_ms = float(np.median(weights)) if len(weights) else 1.0
        return StackProfile(
            request=name, pid=pid, thread=thread, interval_ms=float(interval_ms) or 1.0,
            start=float(start), end_ms=max(self.now, end_ms or 0.0), frames=tuple(self.frames),
            stack_parent=np.asarray(self.parent, np.int32),
            stack_frame=np.asarray(self.frame, np.int32),
            stack_line=np.asarray(self.line, np.int32),
            sample_t=np.asarray(self.t, np.float64),
            sample_stack=np.asarray(self.sid, np.int32), notes=tuple(notes), timed=timed,
            clock=clock)
