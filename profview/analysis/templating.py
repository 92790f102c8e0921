"""URL patterns: collapse request paths that the app surely routes alike.

Two uses.  ``infer_pattern`` names an endpoint from the paths of its requests (constant
segments kept, varying ones as ``<...>``).  ``template_paths`` is the fallback grouping when no
view function is known (plain WSGI, other frameworks): ids (numbers, UUIDs, hex) and
high-cardinality segments become ``<...>``.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterable

VAR = "<...>"
MAX_SEGMENTS = 64          # a crafted path of 10,000 segments is cut, not recursed into
MIN_DISTINCT = 5           # a position with at least this many distinct values …
MAX_MEAN_HITS = 2.0        # … each seen this few times on average, is a variable
_ID = re.compile(
    r"^(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}|(?=\S*\d)(?=\S*[A-Za-z])[A-Za-z0-9_-]{20,})$")


def segments(path: str) -> tuple:
    """``"/user/alice/"`` → ``("user", "alice")``; ``"/"`` → ``()``."""
    return tuple(s for s in path.split("/") if s)[:MAX_SEGMENTS]


def _join(segs) -> str:
    return "/" + "/".join(segs)


def infer_pattern(paths: Iterable[str], limit: int = 3) -> str:
    """One pattern per path length, constant segments kept: ``/user/<...>``."""
    by_len: dict = defaultdict(set)
    for path in paths:
        segs = segments(path)
        by_len[len(segs)].add(segs)
    patterns = []
    for n in sorted(by_len):
        group = by_len[n]
        cols = zip(*group) if n else ()
        patterns.append(_join(col[0] if len(set(col)) == 1 else VAR for col in cols))
    extra = " | …" if len(patterns) > limit else ""
    return " | ".join(patterns[:limit]) + extra


def template_paths(paths: Iterable[str]) -> dict:
    """Map each path to its template; call once per method with all its paths."""
    counts: dict = defaultdict(int)
    for path in paths:
        counts[path] += 1
    items = [(p, tuple(VAR if _ID.match(s) else s for s in segments(p)), n)
             for p, n in counts.items()]
    result: dict = {}
    _collapse(items, 0, [], result)
    return result


def _collapse(items: list, depth: int, prefix: list, result: dict) -> None:
    branches: dict = defaultdict(list)
    for item in items:
        if len(item[1]) == depth:
            result[item[0]] = _join(prefix)
        else:
            branches[item[1][depth]].append(item)
    if not branches:
        return
    hits = sum(item[2] for group in branches.values() for item in group)
    if len(branches) >= MIN_DISTINCT and hits / len(branches) <= MAX_MEAN_HITS:
        merged = [item for group in branches.values() for item in group]
        _collapse(merged, depth + 1, prefix + [VAR], result)
        return
    for segment, group in branches.items():
        _collapse(group, depth + 1, prefix + [segment], result)
