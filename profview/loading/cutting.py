"""Cut a long profile of a whole server process into its requests, by ``requests.jsonl``.

A pyinstrument session started with the server (or any stack-based input with a clock and
time order) covers many requests.  When the capture's ``requests.jsonl`` has requests with
no profile of their own (``profile=False``, or a capture of lines only), each one whose
window (``start`` to ``start + elapsed_ms``) lies inside such a profile, on the same thread
when both name theirs, becomes a request of its own: its share of the samples
(``StackProfile.between``), addressed as ``profiles.cut_path``, with the line's method,
path, rule and SQL.  The time outside every request (an idle server) is not shown; a note
says how much.
"""
from __future__ import annotations

import os

from ..importers import profiles
from ..importers.discover import Found
from ..importers.pstats_file import ProfileError
from ..model.request import Problem

SLACK_S = 0.002     # a request's window may pass the profile's ends by clock rounding


def cut_long(found: list, records: dict) -> tuple:
    """``(found, notes)``: *found* with each long profile replaced by one item per request
    of *records* it covers (see the module docstring), and a note per profile cut."""
    have = {os.path.abspath(f.path) for f in found}
    waiting = [(path, rec) for path, rec in records.items()
               if path not in have and not rec.stacks]
    if not waiting:
        return found, []
    out, notes = [], []
    for item in found:
        profs = _clocked(item)
        if not profs:
            out.append(item)
            continue
        lo = min(p.start for p in profs) - SLACK_S
        hi = max(p.start + (p.end_ms or 0.0) / 1000.0 for p in profs) + SLACK_S
        threads = {p.thread for p in profs if p.thread}
        mine = [(path, rec) for path, rec in waiting
                if lo <= rec.start and rec.start + rec.elapsed_ms / 1000.0 <= hi
                and (not rec.thread or not threads or rec.thread in threads)]
        if not mine:
            out.append(item)
            continue
        taken = {id(rec) for _p, rec in mine}
        waiting = [(p, r) for p, r in waiting if id(r) not in taken]
        for path, rec in mine:
            end = rec.start + rec.elapsed_ms / 1000.0
            out.append(Found(profiles.cut_path(item.path, rec.start, end, rec.thread),
                             os.path.basename(path), rec))
        inside = sum(rec.elapsed_ms for _p, rec in mine) / 1000.0
        span = sum((p.end_ms or 0.0) for p in profs) / 1000.0
        notes.append(Problem(str(item.path), "note: cut into %d requests by requests.jsonl "
                             "(their start, elapsed time and thread); %.2f s of its %.2f s "
                             "were outside every request and are not shown" % (
                                 len(mine), max(0.0, span - inside), span), kind="note"))
    return out, notes


def _clocked(item: Found) -> list:
    """The profiles of *item* that can be cut in time (a clock and time order), or []."""
    if item.record is not None or profiles.stack_format(item.path) is None \
            or profiles.split_cut(item.path) is not None:
        return []
    try:
        return [p for p in profiles.load_stacks(item.path) if p.clock and p.timed and len(p)]
    except (ProfileError, OSError):
        return []            # the scan reports it
