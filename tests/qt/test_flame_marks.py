"""The flame graph says when a frame is not drawn at pstats' exact value."""
from __future__ import annotations

from profview.analysis.calltree import EXACT, SCALED, build
from profview.importers.folded import callgraph_from_folded
from profview.qt.views.flame import FlameView


def test_a_shrunk_frame_says_by_how_much_and_why(qtbot):
    tree = build(callgraph_from_folded("A;B;A;C 5"), mode=EXACT, threshold=0.0)
    view = FlameView()
    qtbot.addWidget(view)
    view.set_tree(tree, None, None)
    c = next(i for i in range(len(tree)) if tree.funcs[i] and tree.funcs[i][2] == "C")
    assert tree.flags[c] & SCALED
    text = view.tooltip_text(c)
    assert "drawn at 2.50 s, not pstats' 5.00 s (-50%)" in text and "recursion" in text
    a = next(i for i in range(len(tree)) if tree.funcs[i] and tree.funcs[i][2] == "A")
    assert "shrunk" not in view.tooltip_text(a)
    view.resize(400, 200)
    view.grab()   # paints the shrunk frames hatched without error
