"""Search, "my code only" and focus, on trees written as folded stacks."""
from __future__ import annotations

import pytest

from profview.analysis import calltree
from profview.analysis.flame import app_only_tree, build_tree, colour_classes, search
from profview.importers.folded import callgraph_from_folded, dump
from profview.model.callgraph import CallGraph, Stats


def _tree(text):
    return calltree.build(callgraph_from_folded(text), threshold=0)


def test_search_share_counts_nested_matches_once():
    t = _tree("A;B;C 4\nA;B 2\nA;D;B 4")
    mask, share = search(t, "B")
    assert [t.funcs[i][2] for i in range(len(t)) if mask[i]] == ["B", "B"]
    assert share == pytest.approx(1.0)          # both Bs: 6 + 4 of 10
    mask, share = search(t, "^(C|D)$", regex=True)
    # B has two callers, so C's 4 s are shared out 6:4 below them; the 1.6 s under D;B is
    # inside D already: 4 (D) + 2.4 (A;B;C) = 6.4 of 10
    assert share == pytest.approx(0.64)
    with pytest.raises(Exception):
        search(t, "(", regex=True)


def _graph_with_files(stacks: dict) -> CallGraph:
    """A folded-stacks graph whose functions live in the given files."""
    g = callgraph_from_folded("\n".join(stacks))
    files = {}
    for line, file in stacks.items():
        for name in line.split()[0].split(";"):
            files.setdefault(name, file.get(name, "/srv/app/views.py"))
    rename = {k: (files[k[2]], 1, k[2]) for k in g.functions}
    return CallGraph({rename[k]: s for k, s in g.functions.items()},
                     {(rename[a], rename[b]): s for (a, b), s in g.edges.items()})


def test_my_code_only_folds_library_frames_into_the_app_caller():
    lib = "/venv/lib/python3.11/site-packages/lib/core.py"
    stacks = {"view;lib1;lib2;helper 3": {"lib1": lib, "lib2": lib},
              "view;lib1;helper 2": {"lib1": lib},
              "view;lib3 5": {"lib3": lib}}
    t = app_only_tree(calltree.build(_graph_with_files(stacks), threshold=0))
    assert dump(t, "total") == "view 10\nview;helper 5"
    kinds, _ = colour_classes(t)
    assert set(kinds.tolist()) <= {0, 3}        # only app code (and the root) is left


def test_focus_merges_all_call_sites():
    g = callgraph_from_folded("A;B;C;D 2\nA;E;C;F 3\nA 5")
    t = build_tree(g, focus=("folded", 0, "C"))
    assert dump(t, "total") == "C 5\nC;D 2\nC;F 3"   # exact: C is the root, all of it
    assert t.total[0] == 5


def test_colour_classes_number_packages_by_appearance():
    stacks = {"app;pkgA 3": {"pkgA": "/v/site-packages/alpha/x.py"},
              "app;pkgB 1": {"pkgB": "/v/site-packages/beta/y.py"},
              "app;json 1": {"json": "/usr/lib/python3.11/json/__init__.py"},
              "app;len 1": {"len": "~"}}
    t = calltree.build(_graph_with_files(stacks), threshold=0)
    classes, packages = colour_classes(t)
    by_name = {t.funcs[i][2]: int(classes[i]) for i in range(1, len(t))}
    assert by_name == {"app": 0, "pkgA": 4, "pkgB": 5, "json": 1, "len": 2}
    assert packages == {4: "alpha", 5: "beta"}


def test_stats_helper_is_exact():
    assert Stats(1, 1, 0.5, 1.0) + Stats(2, 1, 0.5, 1.0) == (3, 2, 1.0, 2.0)
