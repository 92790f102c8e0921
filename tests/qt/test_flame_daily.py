"""The flame area for daily use: labels that survive zooming, history, breadcrumbs, the
sandwich and bottom-up views, stable package colours, an honest legend, template names."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from profview.analysis import calltree, flame, inverted
from profview.analysis.codeloc import template_label
from profview.importers.folded import callgraph_from_folded
from profview.model.callgraph import CallGraph
from profview.model.scope import Scope
from profview.qt.views.flame import FlameView, class_colour
from profview.qt.views.flame_panel import BOTTOM_UP, Legend

LOAD = 60_000


def _open(qtbot, win, paths):
    with qtbot.waitSignal(win.ready, timeout=LOAD):
        win.open_paths(paths)


def _wait_tree(qtbot, win, action):
    with qtbot.waitSignal(win.flame.tree_ready, timeout=LOAD):
        action()


def _deepest(tree):
    return max(range(len(tree)), key=lambda i: (tree.depth[i], tree.total[i]))


def test_labels_stay_in_the_visible_part_of_frames_wider_than_the_view(qtbot):
    view = FlameView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    graph = callgraph_from_folded("main;handler;query;execute 80\nmain;handler;render 20")
    view.set_tree(calltree.build(graph, threshold=0.0), graph)
    for _ in range(6):                      # W six times: the root is ~4x wider than the view
        qtbot.keyClick(view, Qt.Key_W)
    labels = dict(view.label_rects())
    wider = [i for i in range(1, len(view.tree))
             if view.tree.total[i] / (view._x1 - view._x0) > 1.5]
    assert wider, "some frames are wider than the view after zooming"
    for i in wider:
        rect = labels[i]
        assert rect.left() >= 0 and rect.right() <= view.width()
    # after a double-click zoom on the deepest frame, every ancestor row is labelled too
    deep = _deepest(view.tree)
    view.zoom_to(deep)
    labels = dict(view.label_rects())
    path = [i for i, _n in view.zoom_path()]
    assert path[-1] == deep and all(i in labels for i in path)
    view.grab()                             # and it paints


def test_history_back_forward_and_escape(qtbot):
    view = FlameView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    graph = callgraph_from_folded("A;B;C;D 6\nA;B;E 3\nA;F 1")
    view.set_tree(calltree.build(graph, threshold=0.0), graph)
    tree = view.tree
    node = {tree.funcs[i][2]: i for i in range(1, len(tree))}
    full = (view._x0, view._x1)
    view.zoom_to(node["B"])
    view.zoom_to(node["D"])
    assert [n for _i, n in view.zoom_path()] == ["A", "B", "C", "D"]
    qtbot.keyClick(view, Qt.Key_Left, Qt.AltModifier)
    assert view.zoom_path()[-1][1] == "B"
    qtbot.keyClick(view, Qt.Key_Left, Qt.AltModifier)
    assert (view._x0, view._x1) == full and view.zoom_path() == []
    qtbot.keyClick(view, Qt.Key_Right, Qt.AltModifier)
    assert view.zoom_path()[-1][1] == "B"
    qtbot.mouseClick(view, Qt.ForwardButton)
    assert view.zoom_path()[-1][1] == "D"
    qtbot.keyClick(view, Qt.Key_Escape)         # one step out: D's parent
    assert view.zoom_path()[-1][1] == "C"
    qtbot.mouseClick(view, Qt.BackButton)       # back to D
    assert view.zoom_path()[-1][1] == "D"
    for _ in range(5):
        qtbot.keyClick(view, Qt.Key_Escape)
    assert view.zoom_path() == [] and (view._x0, view._x1) == full


def test_wheel_zooms_are_one_history_step(qtbot):
    view = FlameView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    graph = callgraph_from_folded("A;B 6\nA;C 4")
    view.set_tree(calltree.build(graph, threshold=0.0), graph)
    for _ in range(4):
        view.zoom_by(0.8)
    assert view._x1 - view._x0 < 10 * 0.8 ** 3
    assert view.back() and (view._x0, view._x1) == (0.0, 10.0)
    assert not view.back()


def test_breadcrumbs_are_links_to_their_frames(qtbot, window, before):
    _open(qtbot, window, [before])
    panel, view = window.flame, window.flame.view
    view.zoom_to(_deepest(view.tree))
    crumbs = view.zoom_path()
    assert panel.breadcrumb_text().startswith("all › ")
    assert panel.breadcrumb_text().endswith(crumbs[-1][1])
    assert "href='%d'" % crumbs[1][0] in panel.breadcrumbs.text()
    panel._on_crumb(str(crumbs[1][0]))          # what clicking that crumb does
    assert view.zoom_path() == crumbs[:2]
    panel._on_crumb("0")
    assert view.zoom_path() == []


def test_sandwich_shows_callers_above_and_callees_below_with_a_chip(qtbot, window, before):
    _open(qtbot, window, [before])
    panel, session = window.flame, window.session
    # a function with callers and callees: the one most called from several places
    graph = session.graph
    target = max((f for f in graph.functions if len(graph.callers(f)) >= 2
                  and graph.callees(f)), key=lambda f: graph.functions[f].cumtime)
    _wait_tree(qtbot, window, lambda: session.set_focus(target))
    assert panel.callers_view.isVisibleTo(panel)
    callers = panel.callers_view.tree
    assert callers.funcs[1] == target and panel.view.tree.funcs[1] == target
    # its direct callers, each with the exact time of its call edge (tiny ones cut at 0.1%)
    direct = {callers.funcs[i]: callers.total[i] for i in range(len(callers))
              if callers.parent[i] == 1}
    cut = 0.001 * graph.functions[target].cumtime
    edges = {c: e.cumtime for c, e in graph.callers(target).items() if e.cumtime >= cut}
    assert len(direct) >= 2 and set(direct) == set(edges)
    assert all(direct[c] == pytest.approx(edges[c]) for c in edges)
    assert panel.callers_view.flame and not panel.view.flame
    assert panel.unfocus.isVisibleTo(panel)
    assert flame.short_label(target) in panel.unfocus.text() and "×" in panel.unfocus.text()
    # Alt+Left past the zooms goes back to the view before the focus
    _wait_tree(qtbot, window, lambda: qtbot.keyClick(panel.view, Qt.Key_Left,
                                                     Qt.AltModifier))
    assert session.focus is None and not panel.callers_view.isVisibleTo(panel)
    _wait_tree(qtbot, window, lambda: qtbot.keyClick(panel.view, Qt.Key_Right,
                                                     Qt.AltModifier))
    assert session.focus == target
    _wait_tree(qtbot, window, panel.unfocus.click)
    assert session.focus is None and not panel.unfocus.isVisibleTo(panel)


def test_bottom_up_view_puts_self_time_at_the_roots(qtbot, window, before):
    _open(qtbot, window, [before])
    panel, graph = window.flame, window.session.graph
    _wait_tree(qtbot, window, lambda: panel.orientation.setCurrentIndex(BOTTOM_UP))
    tree = panel.view.tree
    assert panel.bottom_up_shown
    expected = inverted.inverted_tree(graph, window.session.mode)
    assert tree.funcs == expected.funcs
    assert tree.total[0] == pytest.approx(sum(s.tottime for s in graph.functions.values()))
    top = max((f for f in graph.functions), key=lambda f: graph.functions[f].tottime)
    assert tree.funcs[1] == top                  # the biggest self time first
    _wait_tree(qtbot, window, lambda: panel.orientation.setCurrentIndex(0))
    assert not panel.bottom_up_shown and panel.view.tree.funcs[1] in graph.roots()


def test_package_colours_are_the_same_on_every_endpoint_and_view(qtbot, window, before):
    _open(qtbot, window, [before])
    seen: dict = {}
    shown = window.session.scope.endpoint

    def check():
        view = window.flame.view
        for cls, name in view.packages().items():
            colour = class_colour(cls, view.packages()).name()
            assert seen.setdefault(name, colour) == colour, name

    check()
    for endpoint in [e for e in window.session.endpoints if e is not shown][:4]:
        _wait_tree(qtbot, window,
                   lambda e=endpoint: window.session.select_scope(Scope.of_endpoint(e)))
        check()
    assert len(seen) >= 3
    # a package's hue depends on its name only
    assert flame.package_hue("flask_login") == flame.package_hue("flask_login")
    assert flame.package_hue("sqlalchemy") != flame.package_hue("werkzeug")


def test_legend_lists_every_package_and_hatching_only_when_it_applies(qtbot):
    legend = Legend()
    qtbot.addWidget(legend)
    legend.show()
    legend.resize(3000, 30)
    packages = {4 + i: "pkg%d" % i for i in range(9)}
    times = {4 + i: float(i) for i in range(9)}
    legend.set_packages(packages, times, estimates=False)
    assert legend.hatch is None
    assert legend.more.text() == "+3 more"
    # the three with the least time are the ones behind "+3 more"
    tip = legend.more.toolTip()
    assert all("pkg%d" % i in tip for i in (0, 1, 2)) and "pkg8" not in tip
    legend.set_packages(packages, times, estimates=True)
    assert legend.hatch is not None and "estimated" in legend.hatch.text()
    # a narrow legend shows fewer packages and says how many it left out
    legend.resize(450, 30)
    shown = [n for label, _c, n in legend._package_labels if not label.isHidden()]
    assert len(shown) < 6 and legend.more.text() == "+%d more" % (9 - len(shown))
    assert shown == ["pkg%d" % i for i in range(8, 8 - len(shown), -1)]   # the biggest


def test_exact_mode_has_no_hatched_legend(qtbot, window, before):
    _open(qtbot, window, [before])
    panel = window.flame
    assert panel.legend.hatch is not None          # estimated mode, shared callees on show
    _wait_tree(qtbot, window, lambda: panel.mode.setCurrentIndex(1))
    assert not panel.view.has_estimates() and panel.legend.hatch is None


def test_jinja_frames_are_named_by_template_and_block():
    # function keys as a real Flask app's profile has them (compiled Jinja templates)
    assert template_label(("/srv/app/templates/user.html", 17, "block_content")) == \
        "user.html › block content"
    assert template_label(("/srv/app/templates/auth/login.html", 4, "root")) == \
        "auth/login.html"
    assert template_label(("/srv/app/templates/_macros.html", 12, "macro")) == \
        "_macros.html › macro"
    assert template_label(("/srv/app/views.py", 4, "root")) is None
    assert template_label(("/srv/app/templates/user.html", 9, "helper")) is None
    # a template's frames in a call tree are labelled so; other frames keep their names
    view = ("/srv/app/views.py", 10, "user")
    root = ("/srv/app/templates/user.html", 4, "root")
    block = ("/srv/app/templates/user.html", 17, "block_content")
    graph = CallGraph.from_pstats({
        view: (1, 1, 0.001, 0.010, {}),
        root: (1, 1, 0.002, 0.009, {view: (1, 1, 0.002, 0.009)}),
        block: (1, 1, 0.007, 0.007, {root: (1, 1, 0.007, 0.007)})})
    assert calltree.build(graph, threshold=0.0).labels() == [
        "all", "user", "user.html", "user.html › block content"]


def test_screenshot_waits_for_the_findings(qtbot, window, before, tmp_path, monkeypatch):
    from argparse import Namespace

    from profview.qt import main_window
    from profview.qt.app import _screenshot_when_ready

    # findings that start well after the first picture: a shot at the picture misses them
    monkeypatch.setattr(main_window, "FINDINGS_DELAY_MS", 1500)
    titles = []
    grab = window.grab
    monkeypatch.setattr(window, "grab", lambda: (titles.append(
        window.docks["Findings"].windowTitle()), grab())[1])

    class App:                       # what the helper asks of the application: quit()
        quitted = False

        def quit(self):
            App.quitted = True

    out = tmp_path / "shot.png"
    _screenshot_when_ready(App(), window, Namespace(paths=[str(before)], compare=None,
                                                    screenshot=str(out)))
    window.open_paths([before])
    qtbot.waitUntil(lambda: App.quitted, timeout=LOAD)
    # taken after the findings were on show: the tab counted them
    assert out.stat().st_size > 0 and window.findings.findings
    assert titles == ["Findings (%d)" % len(window.findings.findings)]
