"""A kept request's lazy graph (``model.kept_graph``) answers as its file's CallGraph does,
and the findings rules' column paths (``findings.graphs``) as their dict paths, on real
captures of third-party apps."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from profview.analysis.findings import find, graphs
from profview.loading.reread import Reader, request_graph
from profview.loading.scan import load_capture

DATA = Path(__file__).parent / "data"
FOLDERS = [DATA / "smorest", DATA / "microblog", DATA / "microblog-logs"]


def _close(a: float, b: float) -> bool:
    # kept numbers are float32 (see store.Builder): seven digits
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_a_kept_graph_is_its_files_graph(folder):
    capture = load_capture([folder], workers=1)
    store = capture.store
    for r in capture.requests:
        kept, disk = store.request_graph(r.file), request_graph(r)
        assert set(kept.functions) == set(disk.functions) and len(kept.functions) == len(
            disk.functions)
        assert set(kept.edges) == set(disk.edges)
        for key, s in disk.functions.items():
            k = kept.functions[key]
            assert (k.ncalls, k.primcalls) == (s.ncalls, s.primcalls)
            assert _close(k.tottime, s.tottime) and _close(k.cumtime, s.cumtime)
        assert kept.functions.get(("nowhere.py", 1, "absent")) is None
        assert ("nowhere.py", 1, "absent") not in kept.functions
        for key in list(disk.functions)[::7]:
            assert set(kept.callers(key)) == set(disk.callers(key))
            assert set(kept.callees(key)) == set(disk.callees(key))


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_the_rules_column_paths_agree_with_their_dict_paths(folder):
    capture = load_capture([folder], workers=1)
    rng = random.Random(7)
    checked = 0
    for r in capture.requests:
        kept, disk = capture.store.request_graph(r.file), request_graph(r)
        for name in ("loader_seconds", "driver_seconds", "db_entry_seconds"):
            assert _close(getattr(graphs, name)(kept), getattr(graphs, name)(disk)), name
        assert graphs.impure_ancestors(kept) == graphs.impure_ancestors(disk)
        keys = list(disk.functions)
        # the roots, recursive functions (their own descendants) and a random few
        picks = [k for k in keys if not disk.callers(k) or k in disk.callees(k)][:5]
        picks += rng.sample(keys, min(12, len(keys)))
        for key in picks:
            assert graphs.descendants(kept, key) == graphs.descendants(disk, key), key
            assert _close(graphs.db_seconds_under(kept, key),
                          graphs.db_seconds_under(disk, key)), key
            checked += 1
    assert checked > 100
    # a recursive function is its own descendant on both paths
    assert any(k in graphs.descendants(capture.store.request_graph(r.file), k)
               for r in capture.requests[:5]
               for k in request_graph(r).functions if k in request_graph(r).callees(k))


def test_findings_from_kept_graphs_are_those_from_the_files():
    """The report reads kept requests' graphs from memory: the findings, word for word and
    number for number, are those of re-reading every file."""
    for folder in FOLDERS:
        capture = load_capture([folder], workers=1)
        read = Reader(capture)
        from_memory = [f.as_dict() for f in find(capture, read=read, kept=read.kept)]
        from_files = [f.as_dict() for f in find(capture, read=request_graph,
                                                kept=read.kept)]
        assert from_memory == from_files
        assert from_memory, folder       # each of these captures has findings


def test_index_masks_are_per_id_and_cached():
    capture = load_capture([DATA / "smorest"], workers=1)
    index = capture.store.index
    mask = index.mask(graphs.is_db)
    assert mask is index.mask(graphs.is_db)
    assert mask.dtype == bool and len(mask) == len(index.funcs)
    assert [k for k, m in zip(index.funcs, mask) if m] == [
        k for k in index.funcs if graphs.is_db(k)]
    assert 0 < int(np.count_nonzero(mask)) < len(mask)
