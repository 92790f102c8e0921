"""The call graph panel: gprof2dot's pruned graph, laid out by Graphviz in a worker, drawn
with Qt items (a hundred or two nodes: items are fine here), linked to the selection.

The worker does everything but the items: prune (on a cached parse), lay out, and turn the
layout into paths, arrowheads, colours and texts (Qt's value types, safe off the GUI thread),
so the GUI thread only makes the items.  One request runs at a time: a slider dragged across
ten steps runs the step it was on and then the last one, not ten layouts fighting for two
cores; ``drawn`` says the latest request is on screen (a graph, or why there is none).
"""
from __future__ import annotations

import itertools
import os

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (QColor, QCursor, QFont, QFontMetricsF, QPainter, QPainterPath,
                           QPen, QPolygonF)
from PySide6.QtWidgets import (QCheckBox, QGraphicsItem, QGraphicsRectItem,
                               QGraphicsScene, QGraphicsView, QHBoxLayout, QLabel,
                               QPushButton, QSlider, QSpinBox, QStyleOptionGraphicsItem,
                               QVBoxLayout, QWidget)

from ...model.callgraph import format_func
from ...analysis import callgraph_view as cg
from ...loading.pool import apart
from ..workers import Latest, Task
from .. import safe_text

EMPTY = "The call graph of the selection appears here."


NODE_POINTS, EDGE_POINTS = 8.0, 7.0         # label sizes, nodes and edges


_tokens = itertools.count(1)


def graph_token() -> tuple:
    """A name for a graph's content, unique in this session (see ``cg.build_and_layout``)."""
    return (os.getpid(), next(_tokens))


def compute(graph, node_thres, edge_thres, focus, depth, metrics=None, token=None) -> tuple:
    """Prune, lay out and prepare the drawing (in a worker thread): ``(spec, layout,
    drawing)``.  The pruning and the layout run in a worker process (``pool.apart``): in
    this process they held the GIL for 50-150 ms on every scope change, while the window
    painted the new scope's tables (a cell's paint calls into Python, and each call waited
    for the GIL: a 14-row table took up to 0.17 s to paint, 12 ms without)."""
    spec, layout = apart(cg.build_and_layout, graph, node_thres, edge_thres, focus, depth,
                         token, mp_context="forkserver", background=True)
    if layout is None:
        return spec, None, None
    return spec, layout, prepare(spec, layout, metrics)


def font_metrics(font: QFont) -> dict:
    """``{"node"|"edge": (average character width, line height)}`` of the label fonts made
    from *font*, measured on the GUI thread for ``prepare``."""
    out = {}
    for kind, points in (("node", NODE_POINTS), ("edge", EDGE_POINTS)):
        f = QFont(font)
        f.setPointSizeF(points)
        m = QFontMetricsF(f)
        out[kind] = (m.averageCharWidth(), m.height())
    return out


def prepare(spec, layout, metrics=None) -> dict:
    """What the items need, computed off the GUI thread (Qt value types only).

    ``nodes``: ``(func, rect, brush colour, pen colour, tooltip)``; ``node_labels`` and
    ``edge_labels``: ``(box, colour, text, greek)`` (see ``_Labels``); ``curves``: ``(path,
    pen, bounds)``; ``arrows``: ``(polygon, colour, bounds)``.  *metrics* is
    ``font_metrics()`` (measured here when not given, on the GUI thread only).
    """
    metrics = metrics or font_metrics(QFont())
    nodes, node_labels = [], []
    for n in spec.nodes:
        x, y, w, h = layout.nodes[n["id"]]
        func = spec.funcs[n["id"]]
        bg = QColor(n["bg"])
        rect = QRectF(x - w / 2, y - h / 2, w, h)
        nodes.append((func, rect, bg, bg.darker(140), safe_text.tip(format_func(func))))
        text = "%s\n%.2f%%\n(%.2f%%)\n%s×" % (n["label"][:40], 100 * n["total"],
                                             100 * n["self"], n["calls"])
        fg = QColor(n["fg"])
        node_labels.append((rect, fg, text, _greek(rect, fg, text, *metrics["node"])))
    info = {(e["src"], e["dst"]): e for e in spec.edges}
    curves, arrows, edge_labels = [], [], []
    for edge in layout.edges:
        e = info.get((edge["src"], edge["dst"]))
        if e is None:
            continue
        colour = QColor(e["colour"])
        curve = edge["curve"]
        path = QPainterPath(QPointF(*curve[0]))
        pts = curve[1:]
        for i in range(0, len(pts) - 2, 3):
            path.cubicTo(QPointF(*pts[i]), QPointF(*pts[i + 1]), QPointF(*pts[i + 2]))
        if edge["tip"] is not None:
            path.lineTo(QPointF(*edge["tip"]))
            arrow = _arrowhead(curve, edge["tip"])
            arrows.append((arrow, colour, arrow.boundingRect().adjusted(-1, -1, 1, 1)))
        width = max(0.8, e["width"] * 0.8)
        curves.append((path, QPen(colour, width),
                       path.controlPointRect().adjusted(-width, -width, width, width)))
        if edge["label"] is not None:      # dot gives the label's centre
            text = "%.2f%%" % (100 * e["ratio"])
            if e["calls"] is not None:
                text += "\n%d×" % e["calls"]
            lx, ly = edge["label"]
            box = QRectF(lx - 40, ly - 14, 80, 28)
            dark = colour.darker(120)
            edge_labels.append((box, dark, text, _greek(box, dark, text, *metrics["edge"])))
    return {"nodes": nodes, "node_labels": node_labels, "curves": curves, "arrows": arrows,
            "edge_labels": edge_labels}


def _greek(box: QRectF, colour: QColor, text: str, char: float, line_h: float) -> tuple:
    """``(pen, lines)``: a faint bar where each line of *text* would be, centred in *box*, for
    when the text is too small to read (a page preview's trick: the shape of the labels)."""
    lines = text.split("\n")
    scale = min(1.0, (box.width() - 4) / max(max(len(t) for t in lines) * char, 1),
                (box.height() - 2) / max(line_h * len(lines), 1))
    centre, step = box.center(), line_h * scale
    top = centre.y() - step * (len(lines) - 1) / 2
    bars = [QLineF(centre.x() - len(t) * char * scale / 2, top + i * step,
                   centre.x() + len(t) * char * scale / 2, top + i * step)
            for i, t in enumerate(lines)]
    faint = QColor(colour)
    faint.setAlpha(120)
    return QPen(faint, step * 0.45), bars


def _arrowhead(curve: list, tip: tuple) -> QPolygonF:
    """A 7-point arrowhead at *tip*, pointing along the end of the edge (from the last point
    of the curve that is not the tip itself)."""
    tx, ty = tip
    for bx, by in reversed(curve):
        dx, dy = tx - bx, ty - by
        norm = (dx * dx + dy * dy) ** 0.5
        if norm > 1e-6:
            break
    else:
        dx, dy, norm = 0.0, 1.0, 1.0
    ux, uy = dx / norm, dy / norm
    return QPolygonF([QPointF(tx, ty),
                      QPointF(tx - 7 * ux + 3.5 * uy, ty - 7 * uy - 3.5 * ux),
                      QPointF(tx - 7 * ux - 3.5 * uy, ty - 7 * uy + 3.5 * ux)])


class _Node(QGraphicsRectItem):
    _hand = None           # one QCursor for every node (made on the GUI thread, when first needed)

    def __init__(self, rect: QRectF, func, panel):
        super().__init__(rect)
        self.func, self.panel = func, panel
        if _Node._hand is None:
            _Node._hand = QCursor(Qt.PointingHandCursor)
        self.setCursor(_Node._hand)

    def mousePressEvent(self, event) -> None:
        self.panel.node_clicked.emit(self.func)
        event.accept()


class _Bulk(QGraphicsItem):
    """Many shapes drawn by one item: one paint call, culled to the exposed area, instead of
    hundreds of items to make, index and delete (and a QGraphicsPathItem strokes its path
    once just to find its bounding box).  Clicks, hovers and tooltips go through."""

    def __init__(self, rect: QRectF, z: float):
        super().__init__()
        self._rect = rect
        self.setAcceptedMouseButtons(Qt.NoButton)
        self.setFlag(QGraphicsItem.ItemUsesExtendedStyleOption)   # for exposedRect
        self.setZValue(z)

    def boundingRect(self) -> QRectF:
        return self._rect

    @staticmethod
    def united(rects) -> QRectF:
        out = QRectF()
        for r in rects:
            out = out.united(r)
        return out


class _Curves(_Bulk):
    """The edges' curves: ``[(path, pen, bounds)]``."""

    def __init__(self, curves: list, z: float = 0):
        super().__init__(self.united(c[2] for c in curves), z)
        self._curves = curves

    def paint(self, painter, option, widget=None) -> None:
        exposed = option.exposedRect
        painter.setBrush(Qt.NoBrush)
        for path, pen, bounds in self._curves:
            if bounds.intersects(exposed):
                painter.setPen(pen)
                painter.drawPath(path)


class _Arrows(_Bulk):
    """The arrowheads: ``[(polygon, colour, bounds)]``, above the nodes they point at."""

    def __init__(self, arrows: list, z: float = 1):
        super().__init__(self.united(a[2] for a in arrows), z)
        self._arrows = arrows

    def paint(self, painter, option, widget=None) -> None:
        exposed = option.exposedRect
        for polygon, colour, bounds in self._arrows:
            if bounds.intersects(exposed):
                painter.setPen(colour)
                painter.setBrush(colour)
                painter.drawPolygon(polygon)


class _Labels(_Bulk):
    """The labels of one kind (node or edge): ``[(box, colour, text, greek)]``, drawn
    centred in their box and scaled down if they do not fit it (measured once, when first
    drawn).  Under ``MIN_PIXELS`` high on screen (250 nodes fitted to a window: 1 px
    letters, a smudge that took half the paint time) each line is a faint bar instead
    (*greek*: ``(pen, lines)``, made by ``prepare``)."""

    MIN_PIXELS = 3.0

    def __init__(self, font: QFont, labels: list, z: float):
        super().__init__(self.united(label[0] for label in labels), z)
        self._font = font
        self._labels = [[box, colour, text, greek, None] for box, colour, text, greek in labels]

    def paint(self, painter, option, widget=None) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        exposed = option.exposedRect
        if lod * self._font.pointSizeF() < self.MIN_PIXELS:
            for box, _colour, _text, (pen, bars), _scale in self._labels:
                if box.intersects(exposed):
                    painter.setPen(pen)
                    painter.drawLines(bars)
            return
        painter.setFont(self._font)
        metrics = None
        for entry in self._labels:
            box, colour, text, _greek, scale = entry
            if not box.intersects(exposed):
                continue
            if scale is None:
                metrics = metrics or QFontMetricsF(self._font)
                need = metrics.boundingRect(QRectF(0, 0, 1e4, 1e4), 0, text)
                scale = entry[4] = min(1.0, (box.width() - 4) / max(need.width(), 1),
                                       (box.height() - 2) / max(need.height(), 1))
            painter.setPen(colour)
            if scale < 1.0:
                painter.save()
                centre = box.center()
                painter.translate(centre)
                painter.scale(scale, scale)
                painter.translate(-centre)
                painter.drawText(box.adjusted(-box.width(), -box.height(), box.width(),
                                              box.height()), Qt.AlignCenter, text)
                painter.restore()
            else:
                painter.drawText(box, Qt.AlignCenter, text)


class GraphView(QGraphicsView):
    """Zoom with the wheel, pan by dragging, fit to the window."""

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)

    def wheelEvent(self, event) -> None:
        factor = 1.2 ** (event.angleDelta().y() / 120.0)
        self.scale(factor, factor)

    def fit(self) -> None:
        rect = self.scene().sceneRect()       # set from the layout's size when drawn
        if not rect.isEmpty():
            self.fitInView(rect, Qt.KeepAspectRatio)


class CallGraphPanel(QWidget):
    """The call graph of what is on show; ``node_clicked(func)`` selects a function."""

    node_clicked = Signal(object)
    laid_out = Signal()      # a graph was drawn
    drawn = Signal()         # the latest request is on screen: a graph, or why there is none

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.spec = self.layout = None
        self._latest = Latest()
        self._running = False        # a worker is on it; a newer request waits for it
        self._pending = None         # the generation of that newer request
        self._token = (None, None)    # (graph, its token): the worker process keeps its parse
        self._nodes: dict = {}
        self._selected = None        # the node drawn as selected
        self._metrics = font_metrics(self.font())    # for the worker's ``prepare``
        self.scene = self._new_scene()
        self.view = GraphView(self.scene, self)
        self.node_slider = self._slider(5, "Hide functions under this share of the time")
        self.edge_slider = self._slider(1, "Hide calls under this share of the time")
        self.focus = QCheckBox("Focus on selected")
        self.depth = QSpinBox()
        self.depth.setRange(1, 10)
        self.depth.setValue(2)
        self.depth.setPrefix("depth ")
        fit = QPushButton("Fit")
        self.status = safe_text.label(EMPTY)
        bar = QHBoxLayout()
        for label, w in (("nodes ≥", self.node_slider), ("edges ≥", self.edge_slider)):
            bar.addWidget(QLabel(label))
            bar.addWidget(w)
        self.node_label, self.edge_label = QLabel(), QLabel()
        bar.insertWidget(2, self.node_label)
        bar.addWidget(self.edge_label)
        for w in (self.focus, self.depth, fit):
            bar.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)
        fit.clicked.connect(self.view.fit)
        for signal in (self.node_slider.valueChanged, self.edge_slider.valueChanged,
                       self.focus.toggled, self.depth.valueChanged):
            signal.connect(self._rebuild)
        self.node_clicked.connect(session.select_function)
        session.events.graph.connect(lambda _g: self._rebuild())
        session.events.function.connect(self._on_function)
        self._labels()

    @staticmethod
    def _slider(value: int, tip: str) -> QSlider:
        slider = QSlider(Qt.Horizontal)
        slider.setRange(0, 100)          # tenths of a percent: 0 – 10%
        slider.setValue(value)
        slider.setMaximumWidth(120)
        slider.setToolTip(tip)
        return slider

    def thresholds(self) -> tuple:
        return self.node_slider.value() / 1000.0, self.edge_slider.value() / 1000.0

    def _labels(self) -> None:
        node, edge = self.thresholds()
        self.node_label.setText("%.1f%%" % (100 * node))
        self.edge_label.setText("%.1f%%" % (100 * edge))

    # --- building ----------------------------------------------------------------------
    def _rebuild(self, *_args) -> None:
        self._labels()
        generation = self._latest.next()
        if self.session.graph is None:
            self._clear()
            self.status.setText(EMPTY)
            self.drawn.emit()
            return
        self.status.setText("Laying out…")
        if self._running:            # one layout at a time: this one when it is done
            self._pending = generation
            return
        self._start(generation)

    def _start(self, generation: int) -> None:
        """Run the request *generation* with the panel's settings as they are now."""
        graph = self.session.graph
        if graph is None or not self._latest.current(generation):
            return
        focus = self.session.function if self.focus.isChecked() else None
        node, edge = self.thresholds()
        self._running, self._pending = True, None
        if self._token[0] is not graph:
            self._token = (graph, graph_token())
        Task(compute, graph, node, edge, focus, self.depth.value(), self._metrics,
             self._token[1]).start(
            on_done=lambda result: self._finished(generation, result),
            on_failed=lambda message: self._finished(generation, None, message), owner=self)

    def _finished(self, generation: int, result, failure: str = "") -> None:
        self._running = False
        if self._pending is not None and self._latest.current(self._pending):
            self._start(self._pending)            # a newer request came meanwhile
        elif failure and self._latest.current(generation):
            self.status.setText("No call graph: %s" % failure)
            self.drawn.emit()
        elif result is not None:
            self._show(generation, *result)

    def _new_scene(self) -> QGraphicsScene:
        scene = QGraphicsScene(self)
        # ~900 items, replaced as a whole: a BSP index costs more to build than it saves
        scene.setItemIndexMethod(QGraphicsScene.NoIndex)
        return scene

    def _clear(self) -> None:
        """An empty scene in place of the one on show; the old one (~900 items take 5-25 ms
        to delete, more while the view watches) is deleted once the new one is painted."""
        old, self.scene = self.scene, self._new_scene()
        self.view.setScene(self.scene)
        old.deleteLater()
        self._nodes = {}
        self._selected = None

    def _show(self, generation: int, spec, layout, drawing=None) -> None:
        """Draw *spec* as placed by *layout* (*drawing*: ``prepare``'s output, made in the
        worker; made here when not given)."""
        if not self._latest.current(generation):
            return
        self.spec, self.layout = spec, layout
        self._clear()
        if layout is None:
            self.status.setText("Nothing above the thresholds: lower them.")
            self.drawn.emit()
            return
        if drawing is None:
            drawing = prepare(spec, layout, self._metrics)
        self._draw(drawing)
        width, height = layout.size
        self.scene.setSceneRect(QRectF(-20, -20, width + 40, height + 40))
        self.status.setText("%d functions, %d calls (laid out by %s)%s" % (
            len(spec.nodes), len(spec.edges), layout.backend,
            "; " + spec.message if spec.message else ""))
        self.view.fit()
        self._highlight(self.session.function)
        self.laid_out.emit()
        self.drawn.emit()

    def _draw(self, drawing: dict) -> None:
        scene = self.scene
        scene.addItem(_Curves(drawing["curves"]))
        if drawing["edge_labels"]:
            scene.addItem(_Labels(self._label_font(EDGE_POINTS), drawing["edge_labels"], 0))
        if drawing["arrows"]:
            scene.addItem(_Arrows(drawing["arrows"]))
        for func, rect, bg, border, tip in drawing["nodes"]:   # above curves and labels
            item = _Node(rect, func, self)
            item.setBrush(bg)
            item.setPen(QPen(border, 1))
            item.setToolTip(tip)
            scene.addItem(item)
            self._nodes[func] = item
        # node labels above every node, the selected one too
        scene.addItem(_Labels(self._label_font(NODE_POINTS), drawing["node_labels"], 3))

    def _label_font(self, points: float) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(points)
        return font

    # --- selection ---------------------------------------------------------------------
    def _on_function(self, func) -> None:
        self._highlight(func)
        if self.focus.isChecked():
            self._rebuild()

    def _highlight(self, func) -> None:
        """Draw *func*'s node as selected, and the one that was as it was."""
        old = self._nodes.get(self._selected)
        if old is not None:
            old.setPen(QPen(old.brush().color().darker(140), 1))
            old.setZValue(0)
        item = self._nodes.get(func)
        if item is not None:
            item.setPen(QPen(QColor(20, 20, 160), 3))
            item.setZValue(2)
        self._selected = func if item is not None else None
